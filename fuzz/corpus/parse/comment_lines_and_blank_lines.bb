# c
## x

   
	
#
A = "x"
