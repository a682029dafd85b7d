SUMMARY = "A recipe this configuration cannot build: BitBake skips it with a reason"
LICENSE = "MIT"

python () {
    if d.getVar("DISTRO") == "gendistro":
        raise bb.parse.SkipRecipe("broken is not for %s" % d.getVar("DISTRO"))
}
