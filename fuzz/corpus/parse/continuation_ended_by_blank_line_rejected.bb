A = "x \

B = "y"
