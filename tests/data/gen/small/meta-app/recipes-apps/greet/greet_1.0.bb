SUMMARY = "A program that DEPENDS on a library, from a release tarball"
LICENSE = "MIT"
DEPENDS = "hello"
SRC_URI = "http://downloads.example.org/greet/greet-${PV}.tar.gz \
           file://greet.conf \
           "
SRC_URI[sha256sum] = "2713e70c2d21c1246f0a347a314e4c0338086a41e10c349563126f44fcd67eba"

do_compile () {
	cc -I${STAGING_INCDIR} -o greet ${S}/greet.c
}

do_install () {
	install -d ${D}${bindir}
	install -m 0755 greet ${D}${bindir}/greet
}
