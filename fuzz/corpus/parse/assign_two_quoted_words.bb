A = 'a' 'b'
