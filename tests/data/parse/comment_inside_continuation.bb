A = "a \
# comment
 b"
C = "c"
