inherit foo
FOO:append = " x"
