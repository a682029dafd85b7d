SUMMARY = "Needs rt-broken at build and run time"
DEPENDS = "rt-broken"
RDEPENDS:${PN} = "rt-broken"
