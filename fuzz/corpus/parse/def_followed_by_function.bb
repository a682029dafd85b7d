def f(d):
    pass
do_x() {
  :
}
