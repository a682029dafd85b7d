SUMMARY = "A tiny C library that builds a greeting"
LICENSE = "MIT"

# The greeting's header is made at build time by a native tool.
DEPENDS = "mkgreeting-native"

SRC_URI = "file://greet.c;subdir=${BP} \
           file://greet.h;subdir=${BP} \
           file://greeting.txt;subdir=${BP} \
           file://Makefile;subdir=${BP} \
           file://0001-greet-end-with-an-exclamation-mark.patch \
           "

do_install() {
	install -d ${D}${libdir} ${D}${includedir}
	install -m 0644 libgreet.a ${D}${libdir}/libgreet.a
	install -m 0644 greet.h ${D}${includedir}/greet.h
}
