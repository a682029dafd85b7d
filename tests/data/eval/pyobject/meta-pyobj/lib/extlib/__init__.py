# A class extender in the shape of Poky's oe.classextend: an object that keeps the data
# store `d` it was made with, stores itself in a variable (EXTENDER), and is called from
# inline Python whenever the variables it mapped are expanded, long after the anonymous
# function that made it returned.

import bb.utils


def get_depends(varname, d):
    return d.getVar("EXTENDER").map_depends(varname)


def get_packages(d):
    return d.getVar("EXTENDER").rename_packages(d.getVar("PACKAGES_ORIG"))


class Extender:
    def __init__(self, name, d):
        self.name = name
        self.d = d
        self.mapped = []
        self.d.setVar("EXTENDER", self)

    def __str__(self):
        # What `bitbake -e` prints for EXTENDER (the default would hold an address).
        return "Extender(%s)" % self.name

    def extend(self, dep):
        # BBCLASSEXTEND names a variant "<pn>-<class>".
        if ("-" + self.name) in dep:
            return dep
        return dep + "-" + self.name

    def map_depends(self, varname):
        # As oe.classextend keeps EXTENDPKGV: set a variable, read through it, restore it.
        orig = self.d.getVar("EXTENDVER", False)
        self.d.setVar("EXTENDVER", "EXTENDVER")
        deps = bb.utils.explode_dep_versions2(self.d.getVar(varname) or "")
        self.d.setVar("EXTENDVER", orig)
        mapped = {self.extend(dep): versions for dep, versions in deps.items()}
        return bb.utils.join_deps(mapped, False).replace("EXTENDVER", "${EXTENDVER}")

    def rename_packages(self, packages):
        self.mapped = [(pkg, self.extend(pkg)) for pkg in self.d.expand(packages or "").split()]
        return " ".join(new for _, new in self.mapped)

    def map_variable(self, varname):
        self.d.renameVar(varname, varname + "_ORIG")
        self.d.setVar(varname, "${@extlib.get_depends('%s_ORIG', d)}" % varname)
