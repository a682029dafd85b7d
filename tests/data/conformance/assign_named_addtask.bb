addtask = "t"
