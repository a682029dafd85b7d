include = "y"
python = "p"
def = "d"
unset = "u"
