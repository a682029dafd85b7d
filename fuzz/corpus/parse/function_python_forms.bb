python do_z() {
    bb.note("x")
}
python do_w () {
    pass
}
fakeroot python do_f() {
    pass
}
python fakeroot do_g() {
    pass
}
