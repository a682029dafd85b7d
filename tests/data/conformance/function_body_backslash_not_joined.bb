do_x() {
  echo a \
}
A = "x"
