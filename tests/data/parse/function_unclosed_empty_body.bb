A = "a"
do_compile() {
