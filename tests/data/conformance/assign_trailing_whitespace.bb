A = "x"   
B = "y"	
