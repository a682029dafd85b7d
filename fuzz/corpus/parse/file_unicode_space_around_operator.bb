A　= "x"
