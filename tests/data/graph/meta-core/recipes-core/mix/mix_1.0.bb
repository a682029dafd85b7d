SUMMARY = "Uses a shell nobody prefers, libbaz, libqux and an editor"
DEPENDS = "virtual/shell libbaz libqux"
RDEPENDS:${PN} = "editor"
