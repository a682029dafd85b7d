# comment \
A = "a"
C = "c"
