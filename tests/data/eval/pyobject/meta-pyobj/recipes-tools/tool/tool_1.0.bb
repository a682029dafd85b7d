SUMMARY = "A tool with an SDK variant whose variables an object maps"
LICENSE = "MIT"
EXTENDVER = "${PV}-${PR}"
DEPENDS = "libbar"
PACKAGES = "${PN}-dev ${PN} ${BPN}-extra"
RDEPENDS:${PN} = "libbar (= ${EXTENDVER}) libbaz-native"
BBCLASSEXTEND = "native"

# An object without a `d`: a dict stored in a variable and read back by inline Python.
python () {
    d.setVar("TOOL_TABLE", {"first": d.getVar("PN"), "count": 2})
}
TOOL_FIRST = "${@d.getVar('TOOL_TABLE')['first']}"
TOOL_COUNT = "${@d.getVar('TOOL_TABLE')['count'] + 1}"
