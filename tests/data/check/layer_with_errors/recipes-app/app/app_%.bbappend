EXTRA_OEMAKE:append = " V=1"
unset EXTRA_OEMAKE[f]
