addtask do_foo_append
addtask do_x after do_y_remove
