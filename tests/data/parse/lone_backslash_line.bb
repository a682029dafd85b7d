\
A = "a"
B = "b"
