# base.bbclass of the bitzel demo: BitBake inherits it into every recipe. The tasks every
# recipe has, in BitBake's conventions: fetch, unpack and patch (Python, on BitBake's
# fetcher), prepare_recipe_sysroot, configure, compile, install, populate_sysroot and the
# roll-up build. DEPENDS turns into task edges through the [deptask] flags.

# Shell helpers the tasks call.
bbnote() {
	echo "NOTE: $*"
}

bbfatal() {
	echo "ERROR: $*"
	exit 1
}

die() {
	bbfatal "$*"
}

oe_runmake() {
	${MAKE} ${PARALLEL_MAKE} ${EXTRA_OEMAKE} "$@" || die "oe_runmake failed"
}

# Downloads every SRC_URI entry into DL_DIR (file:// entries are only checked).
python base_do_fetch () {
    src_uri = (d.getVar("SRC_URI") or "").split()
    if not src_uri:
        return
    try:
        bb.fetch2.Fetch(src_uri, d).download()
    except bb.fetch2.BBFetchException as e:
        bb.fatal("fetching %s: %s" % (d.getVar("PN"), e))
}
do_fetch[dirs] = "${DL_DIR}"
do_fetch[file-checksums] = "${@bb.fetch.get_checksum_file_list(d)}"
do_fetch[vardeps] += "SRCREV"
addtask fetch

# Unpacks SRC_URI into UNPACKDIR: archives extracted, plain files copied (subdir=,
# striplevel=, unpack=0 are the fetcher's).
python base_do_unpack () {
    src_uri = (d.getVar("SRC_URI") or "").split()
    if not src_uri:
        return
    try:
        bb.fetch2.Fetch(src_uri, d).unpack(d.getVar("UNPACKDIR"))
    except bb.fetch2.BBFetchException as e:
        bb.fatal("unpacking %s: %s" % (d.getVar("PN"), e))
}
do_unpack[dirs] = "${UNPACKDIR}"
do_unpack[cleandirs] = "${UNPACKDIR}"
addtask unpack after do_fetch

# The patches of SRC_URI (a .patch or .diff file, or apply=yes), in SRC_URI's order:
# (local path, striplevel, directory they apply in).
def demo_patches(d):
    fetch = bb.fetch2.Fetch([], d)
    patches = []
    for url in (d.getVar("SRC_URI") or "").split():
        kind, _, path, _, _, params = bb.fetch2.decodeurl(url)
        local = fetch.localpath(url)
        apply = params.get("apply")
        if apply is None:
            apply = "yes" if os.path.splitext(local)[1] in (".patch", ".diff") else "no"
        if apply != "yes":
            continue
        striplevel = params.get("striplevel", "1")
        patchdir = os.path.join(d.getVar("S"), params.get("patchdir", ""))
        patches.append((local, striplevel, patchdir))
    return patches

# Applies the patches in order with patch(1), as PATCHTOOL = "patch" does.
python base_do_patch () {
    for local, striplevel, patchdir in demo_patches(d):
        cmd = "patch --no-backup-if-mismatch -p%s -i %s" % (striplevel, local)
        try:
            bb.process.run(cmd + " --dry-run", cwd=patchdir)
            bb.process.run(cmd, cwd=patchdir)
        except bb.process.CmdError as e:
            bb.fatal("applying %s to %s: %s" % (os.path.basename(local), d.getVar("PN"), e))
}
do_patch[dirs] = "${S}"
addtask patch after do_unpack

# Stages the do_populate_sysroot output of each direct dependency into RECIPE_SYSROOT
# (target recipes) or RECIPE_SYSROOT_NATIVE (native recipes).
python base_do_prepare_recipe_sysroot () {
    import shutil
    components = d.getVar("COMPONENTS_DIR")
    for dep in (d.getVar("BB_TASKDEPDATA", False) or {}).values():
        if dep[1] != "do_populate_sysroot" or dep[0] == d.getVar("PN"):
            continue
        native = dep[0].endswith("-native")
        arch = d.getVar("BUILD_ARCH") if native else d.getVar("PACKAGE_ARCH")
        src = os.path.join(components, arch, dep[0])
        dest = d.getVar("RECIPE_SYSROOT_NATIVE" if native else "RECIPE_SYSROOT")
        if os.path.isdir(src):
            shutil.copytree(src, dest, symlinks=True, dirs_exist_ok=True)
}
do_prepare_recipe_sysroot[deptask] = "do_populate_sysroot"
do_prepare_recipe_sysroot[cleandirs] = "${RECIPE_SYSROOT} ${RECIPE_SYSROOT_NATIVE}"
addtask prepare_recipe_sysroot before do_configure after do_fetch

base_do_configure() {
	:
}
do_configure[dirs] = "${B}"
addtask configure after do_patch

base_do_compile() {
	if [ -e Makefile -o -e makefile -o -e GNUmakefile ]; then
		oe_runmake || die "make failed"
	else
		bbnote "nothing to compile"
	fi
}
do_compile[dirs] = "${B}"
addtask compile after do_configure

base_do_install() {
	:
}
do_install[dirs] = "${B}"
do_install[cleandirs] = "${D}"
addtask install after do_compile

# Staging: what a recipe hands to the recipes that depend on it. sysroot_stage_all copies
# the SYSROOT_DIRS of ${D} into SYSROOT_DESTDIR, links as links and modes kept.
sysroot_stage_dir() {
	if [ -d "$1" ]; then
		mkdir -p "$2"
		cp -PR --preserve=mode,links "$1/." "$2/"
	fi
}

sysroot_stage_dirs() {
	for dir in ${SYSROOT_DIRS}; do
		sysroot_stage_dir "$1$dir" "$2$dir"
	done
}

sysroot_stage_all() {
	sysroot_stage_dirs ${D} ${SYSROOT_DESTDIR}
}

# Stages the recipe's files into SYSROOT_DESTDIR, runs SYSROOT_PREPROCESS_FUNCS there, and
# publishes the result where dependent recipes stage it from (COMPONENTS_DIR).
python base_do_populate_sysroot () {
    import shutil
    bb.build.exec_func("sysroot_stage_all", d)
    for func in (d.getVar("SYSROOT_PREPROCESS_FUNCS") or "").split():
        bb.build.exec_func(func, d)
    arch = d.getVar("BUILD_ARCH") if bb.data.inherits_class("native", d) else d.getVar("PACKAGE_ARCH")
    component = os.path.join(d.getVar("COMPONENTS_DIR"), arch, d.getVar("PN"))
    bb.utils.remove(component, recurse=True)
    shutil.copytree(d.getVar("SYSROOT_DESTDIR"), component, symlinks=True)
}
do_populate_sysroot[dirs] = "${SYSROOT_DESTDIR}"
do_populate_sysroot[cleandirs] = "${SYSROOT_DESTDIR}"
addtask populate_sysroot after do_install

do_build[noexec] = "1"
do_build[deptask] = "do_build"
addtask build after do_populate_sysroot

EXPORT_FUNCTIONS do_fetch do_unpack do_patch do_prepare_recipe_sysroot do_configure do_compile do_install do_populate_sysroot
