SUMMARY = "libqux, a 1.3 release"
