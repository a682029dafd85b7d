do_install() {
	echo "hello"
}
do_x () {
}
fakeroot do_y() {
  true
}
my-func.v1+x:append() {
  :
}
do_${PN}_z() {
  :
}
