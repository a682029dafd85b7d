do x() {
  :
}
