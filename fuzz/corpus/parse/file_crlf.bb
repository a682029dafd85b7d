A = "1"
B = "a \
  b"
do_x() {
  echo
}
def f(d):
    pass
C = "3"
