SUMMARY = "A library that tool's package needs at run time, with an SDK variant"
LICENSE = "MIT"
BBCLASSEXTEND = "native"
