SUMMARY = "An older tool in a layer of higher priority: it wins over tool 1.0"
DEPENDS = "libfoo"
BBCLASSEXTEND = "native"
