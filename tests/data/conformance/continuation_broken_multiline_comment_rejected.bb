# First line of comment \
# Second line of comment \

