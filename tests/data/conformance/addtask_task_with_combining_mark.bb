addtask do_fा after do_y
