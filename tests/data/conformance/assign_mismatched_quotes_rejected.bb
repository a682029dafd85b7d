A = "a'
