# Adds a task twice, one of them in the native variant's class override, and removes
# another: add_tasks lists each task once, with the flags it has in the end.
SUMMARY = "Task flags"
BBCLASSEXTEND = "native"

do_deploy () {
	:
}
do_deploy[depends] = "${PN}:do_install"
addtask deploy after do_install before do_build
addtask deploy after do_package

do_unwanted () {
	:
}
addtask unwanted after do_fetch
deltask unwanted
