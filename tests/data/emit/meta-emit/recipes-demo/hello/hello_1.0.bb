# hello: local files found along FILESPATH (a directory too, one shadowed by the append's
# layer), patches with apply=, striplevel=, patchdir=, downloads with and without a
# checksum, an absolute patchdir, COREBASE's scripts and ROOT_HOME, shell pre/postfuncs, a Python prefunc, [exports] and a task override.

SRC_URI = "file://hello.c \
           file://srcdir \
           file://config.h \
           file://fix.patch \
           file://0002-other.diff;striplevel=2;patchdir=sub \
           file://notes.txt;apply=yes \
           file://skip.patch;apply=no \
           file://abs.patch;patchdir=${WORKDIR}/abs \
           file://%70ercent.txt;subdir=extra;unpack=0 \
           https://example.com/releases/hello-${PV}.tar.gz;name=tarball;subdir=src;striplevel=1 \
           http://example.com/dl/get.php?id=7;downloadfilename=extra-${PV}.tgz \
           ftp://ftp.example.com/pub/nochecksum.tar.gz;name=nosum \
          "
SRC_URI[tarball.sha256sum] = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
SRC_URI[sha256sum] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

DEPENDS = "tool-native"

CFLAGS:append:task-compile = " -DTASK_COMPILE"
GREETING = "hello"
do_compile[exports] = "GREETING"

do_compile () {
	compile_helper hello.c
	echo "unused_helper is only named here"
	result=$(helper_in_subshell)
	local_fn() { echo local; }
	local_fn
	python_helper || true
}
do_compile[prefuncs] += "shell_prefunc python_prefunc"
do_compile[vardeps] += "vardep_only_helper"

compile_helper () {
	inner_helper "$1"
	${CC} ${CFLAGS} -c "$1"
}

inner_helper () {
	test -f "$1" || die "missing $1"
}

helper_in_subshell () {
	echo from-subshell
}

unused_helper () {
	echo never called
}

vardep_only_helper () {
	echo only through vardeps
}

python python_helper () {
    pass
}

shell_prefunc () {
	echo prefunc in $(pwd)
}
shell_prefunc[dirs] = "${WORKDIR}/pre ${B}/prefunc"
shell_prefunc[cleandirs] = "${WORKDIR}/pre"

python python_prefunc () {
    bb.note("python prefunc")
}

do_install () {
	install -d ${D}${includedir}
	install -m 0644 ${S}/hello.h ${D}${includedir}/
	install -d ${D}${ROOT_HOME}
	sed -e "s#ROOTHOME#/home/root#" ${COREBASE}/scripts/wrapper.h > ${D}${includedir}/wrapper.h
	cp ${WORKDIR}${COREBASE}/scripts/wrapper.h ${D}${ROOT_HOME}/
}
do_install[postfuncs] += "shell_postfunc"

shell_postfunc () {
	echo done > ${D}/postfunc-ran
}
shell_postfunc[dirs] = "${B}/post"

SYSROOT_PREPROCESS_FUNCS += "hello_sysroot_extra"
hello_sysroot_extra () {
	echo extra >> ${SYSROOT_DESTDIR}${includedir}/extra.h
}

python () {
    d.setVar("MULTILINE", "one\ntwo \"three\" $four")
    d.setVarFlag("MULTILINE", "export", "1")
}

# A name that still holds ${...} after finalising, which each task's expandKeys looks
# at again (with the task override active).
TASKVAR:task-compile = "compile"
export KEYED_${TASKVAR} = "a name with a reference"
