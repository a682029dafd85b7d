SUMMARY = "A build tool, used natively"
DEPENDS = "libfoo"
BBCLASSEXTEND = "native"
