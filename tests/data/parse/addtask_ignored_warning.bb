addtask do_a do_b
