# café
A = "x"
