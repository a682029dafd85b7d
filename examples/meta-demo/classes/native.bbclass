# native.bbclass of the bitzel demo: what BBCLASSEXTEND = "native" inherits (BitBake has
# already renamed PN to "<pn>-native" when this class is read). A native recipe builds a
# tool for the build host: it lands in its consumers' RECIPE_SYSROOT_NATIVE, with its
# programs, and it builds against native dependencies only.

CLASSOVERRIDE = "class-native"
BPN = "${@d.getVar('PN').replace('-native', '')}"
PACKAGE_ARCH = "${BUILD_ARCH}"
MULTIMACH_TARGET_SYS = "${BUILD_SYS}"

# A native recipe's headers and libraries come from the native sysroot, and its programs
# are part of what it hands on.
STAGING_INCDIR = "${RECIPE_SYSROOT_NATIVE}${includedir}"
STAGING_LIBDIR = "${RECIPE_SYSROOT_NATIVE}${libdir}"
SYSROOT_DIRS += "${SYSROOT_DIRS_NATIVE}"

python () {
    deps = (d.getVar("DEPENDS") or "").split()
    d.setVar("DEPENDS", " ".join(dep if dep.endswith("-native") else dep + "-native" for dep in deps))
}
