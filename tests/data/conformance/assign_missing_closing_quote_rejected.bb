A = "x
