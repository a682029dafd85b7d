# image.bbclass of bitzel's graph fixtures: a root file system of every runtime
# dependency's packages, recursively.
PACKAGES = ""
do_rootfs() {
	:
}
do_rootfs[recrdeptask] = "do_package_write do_rootfs"
do_rootfs[recideptask] = "do_populate_sysroot"
do_rootfs[depends] = "tool-native:do_populate_sysroot"
addtask rootfs after do_install before do_build
do_build[recrdeptask] = "do_build"
