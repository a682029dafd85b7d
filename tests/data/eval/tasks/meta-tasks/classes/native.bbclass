# What `BBCLASSEXTEND = "native"` inherits (BitBake has set PN to "<pn>-native"): one
# more task, whose flags read the variant's PN.
CLASSOVERRIDE = "class-native"
BPN = "${@d.getVar('PN').replace('-native', '')}"

do_populate () {
	:
}
do_populate[depends] = "${BPN}:do_deploy"
addtask populate after do_install before do_build
