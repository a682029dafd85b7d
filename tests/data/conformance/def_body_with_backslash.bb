def f(d):
    return 1 + \
        2
A = "x"
