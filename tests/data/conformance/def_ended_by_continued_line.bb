def f(d):
    pass
A = "a \
 b"
