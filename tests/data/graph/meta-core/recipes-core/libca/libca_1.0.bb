SUMMARY = "One C library"
PROVIDES = "virtual/libc"
RPROVIDES:${PN} = "libc"
