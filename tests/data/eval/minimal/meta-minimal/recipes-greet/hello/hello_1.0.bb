SUMMARY = "Prints a greeting"
LICENSE = "MIT"
DEPENDS = "libgreet"

GREETING = "hello from ${PN} ${PV}"

# local.conf switches the build-time tool on: the anonymous function adds a dependency
# on the native variant of libgreet.
HELLO_TOOLS ??= "0"
python () {
    if d.getVar("HELLO_TOOLS") == "1":
        d.appendVar("DEPENDS", " libgreet-native")
}
