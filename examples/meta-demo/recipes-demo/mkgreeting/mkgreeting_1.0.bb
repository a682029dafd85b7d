SUMMARY = "A build-time tool: makes a C header from a greeting text"
LICENSE = "MIT"

SRC_URI = "file://mkgreeting.c;subdir=${BP} \
           file://Makefile;subdir=${BP} \
           "

do_install() {
	install -d ${D}${bindir}
	install -m 0755 mkgreeting ${D}${bindir}/mkgreeting
}

# libgreet runs it at build time: mkgreeting-native lands in libgreet's native sysroot.
BBCLASSEXTEND = "native"
