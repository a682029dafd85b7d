A = "x"
  B = "y"
