addtask do_x
addtask y after do_a before do_b
addtask z before do_b after do_a
addtask do_patch after do_foo after do_unpack before do_configure before do_compile
addtask do_fetch do_patch
addtask  w   after  a  b
