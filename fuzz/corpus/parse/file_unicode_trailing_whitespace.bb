A = "x" 
B = "y"　 
