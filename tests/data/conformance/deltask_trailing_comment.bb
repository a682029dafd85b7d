deltask do_x # comment
deltask do_y# comment
