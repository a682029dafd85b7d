A = "x y"
B = "z" 
