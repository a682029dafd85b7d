do_x() { # c
  echo
}
