EXPORT_FUNCTIONS = "x"
addhandler = "y"
deltask = "z"
inherit_defer = "w"
