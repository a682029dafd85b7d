A = "a \  
  b"
