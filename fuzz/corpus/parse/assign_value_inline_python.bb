A = "${@bb.utils.contains('X', 'y', 'a', 'b', d)}"
B = "${@'{%s}' % d.getVar('C')}"
