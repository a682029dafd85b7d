A = "a\nb\tc"
