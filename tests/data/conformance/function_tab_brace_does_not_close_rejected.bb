do_x() {
  echo
	}
