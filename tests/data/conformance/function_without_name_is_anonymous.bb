() {
  echo
}
