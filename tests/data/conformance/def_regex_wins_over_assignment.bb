def A = "x:"
    pass
B = "y"
