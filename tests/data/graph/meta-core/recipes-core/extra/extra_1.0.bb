SUMMARY = "Recommended by libfoo-utils; needs the native tool to configure"
do_configure[depends] += "tool-native:do_populate_sysroot"
addtask selftest after do_compile before do_install
do_selftest() {
	:
}
