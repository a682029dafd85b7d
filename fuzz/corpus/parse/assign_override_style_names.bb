RRECOMMENDS:${PN} = "a"
RRECOMMENDS:${PN}:libc = "b"
FOO:remove = "x"
FOO:prepend:class-native = "y "
