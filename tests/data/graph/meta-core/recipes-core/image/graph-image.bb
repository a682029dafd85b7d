SUMMARY = "An image"
inherit image
RDEPENDS:${PN} = "app"
