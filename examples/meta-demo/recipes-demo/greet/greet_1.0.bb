SUMMARY = "A program that prints a greeting, linked against libgreet"
LICENSE = "MIT"
DEPENDS = "libgreet"

SRC_URI = "file://main.c;subdir=${BP} \
           file://Makefile;subdir=${BP} \
           "

GREET_WHO ?= "world"
EXTRA_OEMAKE += "'GREET_WHO=${GREET_WHO}'"

# Under fakeroot: the owners set here are recorded (in the fakeroot database), not made.
fakeroot do_install() {
	install -d ${D}${bindir} ${D}${localstatedir}/lib/greet
	install -m 0755 greet ${D}${bindir}/greet
	chown 0:0 ${D}${bindir}/greet
	chown 42:42 ${D}${localstatedir}/lib/greet
}
