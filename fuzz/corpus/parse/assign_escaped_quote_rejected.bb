A = "a\"b"
