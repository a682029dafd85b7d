SUMMARY = "libqux, a 1.2 release"
