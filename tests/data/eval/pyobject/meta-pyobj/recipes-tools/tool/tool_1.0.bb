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

# Inline Python that reads a flag, read again after Python code changes the flag (a
# memo of expanded values must not outlive the change), and a value without Python read
# before and after the change.
TOOL_FLAGGED[doc] = "before"
TOOL_DOC = "${@d.getVarFlag('TOOL_FLAGGED', 'doc')}"
TOOL_PLAIN = "${PN} plain ${TOOL_FLAGGED}"
TOOL_FLAGGED = "flagged"
python () {
    first = d.getVar("TOOL_DOC") + " " + d.getVar("TOOL_PLAIN")
    d.setVarFlag("TOOL_FLAGGED", "doc", "after")
    d.appendVarFlag("TOOL_PLAIN", "doc", " more")
    d.setVar("TOOL_DOC_SEEN", first + " / " + d.getVar("TOOL_DOC") + " " + d.getVar("TOOL_PLAIN"))
}
