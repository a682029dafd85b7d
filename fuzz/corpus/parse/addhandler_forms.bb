addhandler foo
addhandler ${X} bar
