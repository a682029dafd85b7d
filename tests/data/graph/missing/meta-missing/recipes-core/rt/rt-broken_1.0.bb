SUMMARY = "Needs a runtime name nobody provides"
RDEPENDS:${PN} = "nope-rt"
