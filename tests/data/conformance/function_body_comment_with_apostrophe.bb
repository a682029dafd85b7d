do_x() {
  # don't stop
  echo '}'
}
