A = "x"y
