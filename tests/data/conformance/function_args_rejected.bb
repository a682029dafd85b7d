do_x(a) {
  :
}
