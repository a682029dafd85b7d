do_x()
{
  echo
}
