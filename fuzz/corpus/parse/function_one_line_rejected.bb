do_x() { echo; }
