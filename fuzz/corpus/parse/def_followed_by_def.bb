def f(d):
    pass
def g(d):
    pass
