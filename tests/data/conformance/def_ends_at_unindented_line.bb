def f(d):
    return 1

    # still body
A = "x"
