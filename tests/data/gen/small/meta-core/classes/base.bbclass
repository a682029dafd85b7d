# base.bbclass of bitzel's gen fixture: BitBake inherits it into every recipe. The
# tasks of Poky's base.bbclass, staging.bbclass and sstate in their order, with their
# flags; the Python ones are stand-ins with Poky's names.

python do_fetch () {
    bb.note("fetching %s" % d.getVar("SRC_URI"))
}
do_fetch[dirs] = "${DL_DIR}"
addtask fetch

python do_unpack () {
    bb.note("unpacking %s into %s" % (d.getVar("SRC_URI"), d.getVar("WORKDIR")))
}
do_unpack[dirs] = "${WORKDIR}"
do_unpack[cleandirs] = "${S}"
addtask unpack after do_fetch

python do_patch () {
    bb.note("patching %s" % d.getVar("S"))
}
do_patch[dirs] = "${S}"
addtask patch after do_unpack

python do_prepare_recipe_sysroot () {
    bb.note("staging the sysroots of %s" % d.getVar("DEPENDS"))
}
do_prepare_recipe_sysroot[deptask] = "do_populate_sysroot"
addtask prepare_recipe_sysroot before do_configure after do_fetch

base_do_configure () {
	:
}
do_configure[dirs] = "${B}"
addtask configure after do_patch

base_do_compile () {
	:
}
do_compile[dirs] = "${B}"
addtask compile after do_configure

base_do_install () {
	:
}
do_install[dirs] = "${B}"
do_install[cleandirs] = "${D}"
do_install[fakeroot] = "1"
addtask install after do_compile

python do_populate_sysroot () {
    bb.note("copying %s to %s" % (d.getVar("D"), d.getVar("SYSROOT_DESTDIR")))
}
do_populate_sysroot[cleandirs] = "${SYSROOT_DESTDIR}"
addtask populate_sysroot after do_install

do_build () {
	:
}
do_build[noexec] = "1"
addtask build after do_populate_sysroot

EXPORT_FUNCTIONS do_configure do_compile do_install
