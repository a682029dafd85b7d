SUMMARY = "A library built with a native tool"
LICENSE = "MIT"
DEPENDS = "stamper-native"
SRC_URI = "file://hello.h \
           file://0001-louder.patch \
           "
S = "${WORKDIR}/sources"
UNPACKDIR = "${S}"

do_compile () {
	stamper ${S}/hello.h > hello.h
	echo "libhello" > libhello.a
}

do_install () {
	install -d ${D}${includedir} ${D}${libdir}
	install -m 0644 hello.h ${D}${includedir}/hello.h
	install -m 0644 libhello.a ${D}${libdir}/libhello.a
}
