deltask do_x
deltask ${X} do_y
