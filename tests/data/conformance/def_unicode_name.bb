def fé(d):
    pass
