# base.bbclass of bitzel's tasks fixture: inherited into every recipe. Tasks with every
# flag that bb.build.add_tasks copies into _task_deps, some through expansions.

TASKDEP_PREFIX = "${PN}"

python do_fetch () {
    bb.note("nothing to fetch for %s" % d.getVar("PN"))
}
do_fetch[dirs] = "${WORKDIR}"
do_fetch[umask] = "022"
do_fetch[mcdepends] = ""
addtask fetch

do_compile () {
	mkdir -p ${B}
}
do_compile[dirs] = "${B}"
do_compile[deptask] = "do_install"
do_compile[depends] = "${TASKDEP_PREFIX}:do_fetch ${@'%s:do_fetch' % d.getVar('PN')}"
do_compile[recrdeptask] = "do_fetch"
addtask compile after do_fetch

do_install () {
	mkdir -p ${D}
}
do_install[fakeroot] = "1"
do_install[rdeptask] = "do_fetch"
do_install[rdepends] = "${PN}:do_fetch"
addtask install after do_compile before do_build

do_package () {
	:
}
do_package[recideptask] = "do_fetch"
do_package[nostamp] = "${@'1'}"
addtask package after do_install do_compile before do_build

do_build () {
	:
}
do_build[noexec] = "1"
do_build[deptask] = "do_build"
addtask build after do_install
