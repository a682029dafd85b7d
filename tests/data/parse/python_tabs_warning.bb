python do_x() {
	bb.note("tab")
    ok
}
def f(d):
  	pass
do_sh() {
	echo no warning
}
