addtask do_foo:append_bar
B = "b"
