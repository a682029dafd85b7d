do_x() {
# col0 comment
	A = "x" # c
  inherit foo
{

}
