SUMMARY = "Depends on broken, which cannot be built"
DEPENDS = "broken"
