SUMMARY = "A library without errors"
LICENSE = "MIT"
python do_hello() {
    bb.plain("hello")
}
addtask hello after do_compile before do_build

def lib_helper(d):
    return d.getVar("PN")
