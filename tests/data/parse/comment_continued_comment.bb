# comment \
# more
A = "a"
