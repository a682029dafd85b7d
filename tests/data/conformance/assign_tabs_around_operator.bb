A	=	"x"
B		?=  	"y"
