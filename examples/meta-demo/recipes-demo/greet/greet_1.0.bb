SUMMARY = "A program that prints a greeting, linked against libgreet"
LICENSE = "MIT"
DEPENDS = "libgreet"

SRC_URI = "file://main.c \
           file://Makefile \
           "
S = "${WORKDIR}"

inherit greeting

fakeroot do_install() {
	install -d ${D}${bindir}
	install -m 0755 greet ${D}${bindir}/greet
	chown 0:0 ${D}${bindir}/greet
}

python do_show_greeting() {
    bb.plain("greeting: %s, %s!" % (d.getVar("GREETING"), d.getVar("GREETING_TARGET")))
}
addtask show_greeting after do_compile before do_build
