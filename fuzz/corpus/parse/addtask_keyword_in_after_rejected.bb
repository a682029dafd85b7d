addtask do_x after do_y:remove_z
