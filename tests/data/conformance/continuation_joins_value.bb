A = "a \
    b \
    c"
B = "x"
