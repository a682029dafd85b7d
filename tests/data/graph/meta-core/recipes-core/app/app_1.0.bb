SUMMARY = "An application"
DEPENDS = "libfoo tool-native virtual/libc"
RDEPENDS:${PN} = "libfoo libfoo-utils"
deltask do_packagedata
addtask packagedata after do_package before do_package_write
do_packagedata() {
	:
}
