do_x() {
  if true; then
    echo
  }
}
A = "x"
