A = "a"
do_compile() {
    echo
