A = "a # not a comment"
B = "#"
