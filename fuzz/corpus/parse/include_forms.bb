include a.inc
require b.inc
include ${X}
include a.inc b.inc
require  c.inc # c
