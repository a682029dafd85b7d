# Found first along FILESPATH: this layer's config.h shadows meta-emit's.
FILESEXTRAPATHS:prepend := "${THISDIR}/files:"
SRC_URI += "file://appended.patch;patchdir=sub"
