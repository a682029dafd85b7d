do_install() {
    if true; then
        echo
  }
} # not a close
    }
}
A = "after"
