python do_foo () {
    bb.note("x")
}
fakeroot python do_x() {
    pass
}
fakeroot do_install:append() {
	echo
}
do_${PN}.a-b+c:d() {
}
pythonfoo() {
}
fakeroot() {
}
