A = "a\\
b"
