do_x() {
}
