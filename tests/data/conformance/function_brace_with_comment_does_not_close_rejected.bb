do_x() {
  echo
} # c
A = "x"
