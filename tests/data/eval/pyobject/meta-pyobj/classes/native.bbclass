# What `BBCLASSEXTEND = "native"` inherits (BitBake has set PN to "<pn>-native"). As in
# Poky's nativesdk.bbclass, an anonymous function makes an extender object
# (extlib.Extender, which keeps `d` and stores itself in EXTENDER) and leaves DEPENDS,
# RDEPENDS:${PN} and PACKAGES as inline Python that calls it back whenever they are
# expanded.
CLASSOVERRIDE = "class-native"
BPN = "${@d.getVar('PN').replace('-native', '')}"

python () {
    import extlib
    ext = extlib.Extender("native", d)
    ext.map_variable("DEPENDS")
    ext.map_variable("RDEPENDS:" + d.getVar("PN"))
    d.renameVar("PACKAGES", "PACKAGES_ORIG")
    d.setVar("PACKAGES", "${@extlib.get_packages(d)}")
}

# A later anonymous function of the same finalise reads the mapped values (the object
# acts on the variant's store while an expansion of it runs).
python () {
    d.setVar("DEPENDS_AT_FINALISE", d.getVar("DEPENDS"))
    d.setVar("PACKAGES_AT_FINALISE", d.getVar("PACKAGES"))
}
