# base.bbclass of the classes case.
inherit helper
inherit helper

def base_helper(d):
    return "helped by " + d.getVar("MACHINE")

HELPED = "${@base_helper(d)}"

base_do_compile() {
	echo compile ${MACHINE}
}

python base_do_fetch() {
    bb.note("fetch")
}

EXPORT_FUNCTIONS do_compile do_fetch

addtask fetch
addtask configure after do_fetch
addtask compile after do_configure
addtask install after do_compile before do_build
addtask build
addtask unwanted after do_fetch before do_install
deltask unwanted

do_install() {
	echo install ${MACHINE}
}

fakeroot do_package() {
	:
}
FAKEROOT_FLAG = "${@d.getVarFlag('do_package', 'fakeroot')}"

do_multi() {
	one
	two

	four
}

addhandler base_eventhandler
python base_eventhandler() {
    pass
}

python () {
    d.setVar("ANON_RAN", "yes for " + d.getVar("MACHINE"))
}

TASKS = "${@' '.join(d.getVar('__BBTASKS', False))}"
INSTALL_DEPS = "${@' '.join(d.getVarFlag('do_install', 'deps', False))}"
BUILD_DEPS = "${@' '.join(d.getVarFlag('do_build', 'deps', False))}"
FETCH_DEPS = "${@' '.join(d.getVarFlag('do_fetch', 'deps', False))}"
INHERITED = "${@' '.join(os.path.basename(p) for p in d.getVar('__inherit_cache', False))}"
HANDLERS = "${@' '.join(d.getVar('__BBHANDLERS', False))}"
INSTALL_IS_TASK = "${@d.getVarFlag('do_install', 'task')}"
UNWANTED_IS_TASK = "${@d.getVarFlag('do_unwanted', 'task')}"
CLASSTYPE = "${@d.getVar('__bbclasstype')}"
