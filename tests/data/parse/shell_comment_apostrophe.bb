do_configure() {
    # don't stop here
    echo "it's fine"
}
B = "b"
