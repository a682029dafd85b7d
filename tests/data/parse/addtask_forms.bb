addtask do_a
addtask b before do_c
addtask c after do_a do_b
addtask d after do_a before do_b do_c
addtask e before do_x after do_y
addtask f before do_after_x
addtask   g	after   
