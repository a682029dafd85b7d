A = "a"
B = "b \
