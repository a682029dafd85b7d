A = "a \
# c
"
