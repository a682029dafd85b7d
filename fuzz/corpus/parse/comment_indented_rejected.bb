A = "x"
  # indented comment
