# native.bbclass of bitzel's gen fixture: what BBCLASSEXTEND = "native" inherits
# (PN is already "<pn>-native" when it is read).

CLASSOVERRIDE = "class-native"
BPN = "${@d.getVar('PN').replace('-native', '')}"
PACKAGE_ARCH = "${BUILD_ARCH}"
MULTIMACH_TARGET_SYS = "${PACKAGE_ARCH}-linux"
# Poky installs native tools under STAGING_DIR_NATIVE; here they keep /usr, which the
# consumers' recipe-sysroot-native then holds.

# A native tool builds against native dependencies only.
python () {
    deps = (d.getVar("DEPENDS") or "").split()
    d.setVar("DEPENDS", " ".join(dep if dep.endswith("-native") else dep + "-native" for dep in deps))
}
