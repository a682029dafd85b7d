def f:
    pass
def g(d) -> "x":
    pass
def h(d): # c
    pass
