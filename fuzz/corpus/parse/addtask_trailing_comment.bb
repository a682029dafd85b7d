addtask do_x # comment
addtask do_y# comment
