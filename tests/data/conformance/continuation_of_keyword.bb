inherit \
    a b
export \
 A
