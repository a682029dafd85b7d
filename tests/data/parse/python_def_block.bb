def helper(d, \
           x):
    return d.getVar("A")

# still in the block

A = "${@helper(d, 1)}"
def other(): return 1
B = "b"
