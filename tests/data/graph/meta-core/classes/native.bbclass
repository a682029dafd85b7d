# native.bbclass of bitzel's graph fixtures: what BBCLASSEXTEND = "native" inherits.
CLASSOVERRIDE = "class-native"
BPN = "${@d.getVar('PN').replace('-native', '')}"
PACKAGES = ""
RDEPENDS:${PN} = ""

# Native tools build against native dependencies (virtual/ ones come from the host)
# and package nothing.
python () {
    deps = (d.getVar("DEPENDS") or "").split()
    d.setVar("DEPENDS", " ".join(dep if dep.endswith("-native") else dep + "-native" for dep in deps if not dep.startswith("virtual/")))
}
deltask do_package_write
