export do_x() {
  :
}
