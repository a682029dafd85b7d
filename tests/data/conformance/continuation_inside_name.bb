MY\
VAR = "x"
