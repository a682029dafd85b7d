do_compile() {
    oe_runmake \
        FOO=1
}
A = "a"
