def last(d):
    return 1

