# base.bbclass of bitzel's graph fixtures: the task chain every recipe gets.

do_fetch[noexec] = "1"
addtask fetch
addtask unpack after do_fetch
addtask configure after do_unpack
# Build dependencies are staged before configuring (DEPENDS' do_populate_sysroot).
do_configure[deptask] = "do_populate_sysroot"
addtask compile after do_configure
addtask install after do_compile
addtask populate_sysroot after do_install
addtask package after do_install
addtask packagedata after do_package
addtask package_write after do_packagedata
# Writing packages reads what runtime dependencies' packages provide.
do_package_write[rdeptask] = "do_packagedata"
addtask listtasks
do_listtasks[nostamp] = "1"
do_build[noexec] = "1"
addtask build after do_populate_sysroot do_package_write

do_unpack() {
	:
}
do_configure() {
	:
}
do_compile() {
	:
}
do_install() {
	:
}
do_populate_sysroot() {
	:
}
do_package() {
	:
}
do_packagedata() {
	:
}
do_package_write() {
	:
}
do_listtasks() {
	:
}
