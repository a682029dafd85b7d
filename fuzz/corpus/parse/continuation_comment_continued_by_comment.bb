# a \
# b
A = "x"
