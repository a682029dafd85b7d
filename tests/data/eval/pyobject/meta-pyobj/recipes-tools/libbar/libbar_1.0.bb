SUMMARY = "A library that tool depends on, with an SDK variant"
LICENSE = "MIT"
BBCLASSEXTEND = "native"
