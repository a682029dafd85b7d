A = "x"
B = "y" # comment
