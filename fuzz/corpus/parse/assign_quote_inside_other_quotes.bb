A = "it's"
B = 'say "hi"'
