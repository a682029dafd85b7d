# native.bbclass of bitzel's minimal fixture: what BBCLASSEXTEND = "native" inherits.
# BitBake has already renamed PN to "<pn>-native" when this class is read.

CLASSOVERRIDE = "class-native"
BPN = "${@d.getVar('PN').replace('-native', '')}"

# A native tool builds against native dependencies only.
python () {
    deps = (d.getVar("DEPENDS") or "").split()
    d.setVar("DEPENDS", " ".join(dep if dep.endswith("-native") else dep + "-native" for dep in deps))
}
