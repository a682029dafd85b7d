deltask do_fetch do_${X}
addhandler my_handler
EXPORT_FUNCTIONS do_configure do_compile
inherit autotools ${@'pkgconfig' if True else ''}
inherit_defer ${VIRTUAL-RUNTIME_init}
inherit = "an inherit of '= \"...\"'"
include foo.inc
require ${BPN}.inc
include_all x.inc
export A
unset B[doc]
