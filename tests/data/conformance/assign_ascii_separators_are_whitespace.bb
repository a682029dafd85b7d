A="x"
B = "y"
