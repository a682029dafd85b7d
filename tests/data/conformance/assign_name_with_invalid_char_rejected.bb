A%B = "x"
