SUMMARY = "Recommended by libfoo-utils; needs the native tool to configure"
do_configure[depends] += "tool-native:do_populate_sysroot"
addtask selftest after do_compile before do_install
do_selftest() {
	:
}
# A runtime name in a task's [rdepends]: whoever RPROVIDES "editor".
do_package[rdepends] = "editor:do_packagedata"
