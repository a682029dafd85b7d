A = "a \
   
B = "b"
