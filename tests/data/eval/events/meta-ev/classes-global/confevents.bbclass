# Handlers of the events case: one for recipe events only, one without a mask, one
# after base's.
addhandler recipe_only_handler
recipe_only_handler[eventmask] = "bb.event.RecipePreFinalise"
python recipe_only_handler() {
    d.appendVar("EVENTS_SEEN", " recipe-only")
}

addhandler every_event_handler
python every_event_handler() {
    d.appendVar("EVENTS_SEEN", " every:" + bb.event.getName(e))
}

addhandler after_base_handler
after_base_handler[eventmask] = "bb.event.ConfigParsed"
python after_base_handler() {
    d.setVar("AFTER_BASE", "orig=" + (d.getVar("ORIGHOSTSTRING") or "unset"))
}
