def f(d):
    a = 1
# comment
    return a
B = "y"
