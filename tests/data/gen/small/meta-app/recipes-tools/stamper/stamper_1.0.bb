SUMMARY = "A build-time tool that stamps headers"
LICENSE = "MIT"
SRC_URI = "file://stamper.sh"
S = "${WORKDIR}/sources"
UNPACKDIR = "${S}"

do_install () {
	install -d ${D}${bindir}
	install -m 0755 ${S}/stamper.sh ${D}${bindir}/stamper
}

BBCLASSEXTEND = "native"
