addtask dö_x after do_y
