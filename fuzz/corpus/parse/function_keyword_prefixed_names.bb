pythonX() {
  :
}
fakeroot() {
  :
}
python_do() {
  :
}
