# base.bbclass of bitzel's emit fixture: the usual task chain with Python fetch, unpack,
# patch and populate_sysroot (as OE has them), shell configure/compile/install, a
# fakeroot install, a noexec build and one more Python task.

python do_fetch () {
    fetcher = bb.fetch2.Fetch((d.getVar("SRC_URI") or "").split(), d)
    fetcher.download()
}
do_fetch[dirs] = "${DL_DIR}"
addtask fetch

python do_unpack () {
    fetcher = bb.fetch2.Fetch((d.getVar("SRC_URI") or "").split(), d)
    fetcher.unpack(d.getVar("WORKDIR"))
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
    bb.note("staging")
}
addtask prepare_recipe_sysroot before do_configure after do_fetch

base_do_configure () {
	echo configuring in $(pwd)
}
do_configure[dirs] = "${B}"
addtask configure after do_patch

base_do_compile () {
	if [ -e Makefile ]; then
		oe_runmake
	fi
}
do_compile[dirs] = "${B}"
addtask compile after do_configure

oe_runmake () {
	${MAKE} ${EXTRA_OEMAKE} "$@" || die "oe_runmake failed"
}
MAKE = "make"
EXTRA_OEMAKE = ""

die () {
	echo "ERROR: $*"
	exit 1
}

base_do_install () {
	:
}
do_install[dirs] = "${B}"
do_install[cleandirs] = "${D}"
do_install[fakeroot] = "1"
addtask install after do_compile

EXPORT_FUNCTIONS do_configure do_compile do_install

SYSROOT_DIRS = "${includedir} ${libdir}"
SYSROOT_DIRS:append:class-native = " ${bindir}"
SYSROOT_DIRS_IGNORE = "${docdir}"
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

python do_package () {
    bb.note("packaging")
}
addtask package after do_install

do_build[noexec] = "1"
addtask build after do_populate_sysroot do_package
