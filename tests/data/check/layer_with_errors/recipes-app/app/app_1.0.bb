SUMMARY = "An application with mistakes a user makes in the first hour"
LICENSE = "MIT"
require app.inc

SRC_URI = "file://app.c" # a trailing comment is not allowed

do_install() { install -d ${D}${bindir} }

  INDENTED = "no"

do_compile() {
	oe_runmake
}
