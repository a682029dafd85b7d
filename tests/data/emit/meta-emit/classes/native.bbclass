# native.bbclass of bitzel's emit fixture.
CLASSOVERRIDE = "class-native"
BPN = "${@d.getVar('PN').replace('-native', '')}"
