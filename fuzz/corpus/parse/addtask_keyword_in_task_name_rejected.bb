A = "1"
addtask do_foo:append_x
