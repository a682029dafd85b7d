myclass_do_compile() {
    oe_runmake
}
EXPORT_FUNCTIONS do_compile
addtask compile after do_configure
