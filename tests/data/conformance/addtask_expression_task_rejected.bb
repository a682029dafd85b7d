addtask ${X}
