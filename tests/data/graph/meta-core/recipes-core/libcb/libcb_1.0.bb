SUMMARY = "Another C library"
PROVIDES = "virtual/libc"
RPROVIDES:${PN} = "libc"
