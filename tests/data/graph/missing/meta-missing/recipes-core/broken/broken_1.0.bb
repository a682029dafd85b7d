SUMMARY = "Depends on a library nobody provides"
DEPENDS = "libnothere"
