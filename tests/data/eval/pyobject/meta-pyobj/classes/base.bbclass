# base.bbclass of bitzel's pyobject fixture (the minimal fixture's): inherited into every recipe.
# Four tasks in a chain; DEPENDS turns into edges through the [deptask] flags.

python do_fetch () {
    bb.note("nothing to fetch for %s" % d.getVar("PN"))
}
do_fetch[dirs] = "${WORKDIR}"
addtask fetch

do_compile () {
	mkdir -p ${B}
}
do_compile[dirs] = "${B}"
do_compile[deptask] = "do_install"
addtask compile after do_fetch

do_install () {
	mkdir -p ${D}
}
addtask install after do_compile

do_build () {
	:
}
do_build[noexec] = "1"
do_build[deptask] = "do_build"
addtask build after do_install
