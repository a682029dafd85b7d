def f(d): return 1
A = "x"
