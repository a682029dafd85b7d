SUMMARY = "A tiny C library that builds a greeting"
LICENSE = "MIT"
LIC_FILES_CHKSUM = "file://greet.h;beginline=1;endline=2;md5=0123456789abcdef0123456789abcdef"

SRC_URI = "file://greet.c \
           file://greet.h \
           file://Makefile \
           "
S = "${WORKDIR}"

inherit greeting

do_install() {
	install -d ${D}${libdir} ${D}${includedir}
	install -m 0644 libgreet.a ${D}${libdir}/
	install -m 0644 greet.h ${D}${includedir}/
}

BBCLASSEXTEND = "native"
