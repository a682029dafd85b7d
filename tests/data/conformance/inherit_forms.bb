inherit a b
inherit ${X}
inherit_defer c
inherit  d # comment
inherit	x
