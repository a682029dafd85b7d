# base.bbclass of bitzel's gen fixture: BitBake inherits it into every recipe. The
# tasks of Poky's base.bbclass, patch.bbclass, staging.bbclass and sstate in their
# order, with their flags: the fetcher's do_fetch and do_unpack, a do_patch, the sysroot
# tasks, shell configure/compile/install (a fakeroot install), a noexec build.

python base_do_fetch () {
    src_uri = (d.getVar("SRC_URI") or "").split()
    if not src_uri:
        return
    fetcher = bb.fetch2.Fetch(src_uri, d)
    fetcher.download()
}
do_fetch[dirs] = "${DL_DIR}"
addtask fetch

python base_do_unpack () {
    src_uri = (d.getVar("SRC_URI") or "").split()
    if not src_uri:
        return
    fetcher = bb.fetch2.Fetch(src_uri, d)
    fetcher.unpack(d.getVar("UNPACKDIR"))
}
do_unpack[dirs] = "${WORKDIR}"
do_unpack[cleandirs] = "${S}"
addtask unpack after do_fetch

python base_do_patch () {
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

SYSROOT_DIRS = "${includedir} ${libdir}"
SYSROOT_DIRS:append:class-native = " ${bindir}"
SYSROOT_PREPROCESS_FUNCS ?= ""

sysroot_stage_all () {
	for dir in ${SYSROOT_DIRS}; do
		if [ -d "${D}$dir" ]; then
			mkdir -p "${SYSROOT_DESTDIR}$dir"
			cp -a "${D}$dir/." "${SYSROOT_DESTDIR}$dir/"
		fi
	done
}

python do_populate_sysroot () {
    bb.build.exec_func("sysroot_stage_all", d)
    for f in (d.getVar("SYSROOT_PREPROCESS_FUNCS") or "").split():
        bb.build.exec_func(f, d)
}
do_populate_sysroot[dirs] = "${SYSROOT_DESTDIR}"
do_populate_sysroot[cleandirs] = "${SYSROOT_DESTDIR}"
addtask populate_sysroot after do_install

do_build () {
	:
}
do_build[noexec] = "1"
addtask build after do_populate_sysroot

# A task outside do_build's closure (as OE's devshell): a `manual` target.
do_devshell () {
	echo "a shell in ${S}"
}
do_devshell[nostamp] = "1"
addtask devshell after do_patch

EXPORT_FUNCTIONS do_fetch do_unpack do_patch do_configure do_compile do_install
