# base.bbclass of the events case.
addhandler base_eventhandler
base_eventhandler[eventmask] = "bb.event.ConfigParsed bb.event.RecipeParsed"
python base_eventhandler() {
    if isinstance(e, bb.event.ConfigParsed):
        if not d.getVar("HOSTSTRING", False):
            d.setVar("HOSTSTRING", "host-" + d.getVar("MACHINE"))
        d.setVar("ORIGHOSTSTRING", d.getVar("HOSTSTRING", False))
        d.appendVar("EVENTS_SEEN", " base:" + bb.event.getName(e))
        d.setVar("DATA_IS_D", str(e.data is d or e.data.getVar("MACHINE") == d.getVar("MACHINE")))
        d.setVar("ORIGENV_HOME", str(d.getVar("BB_ORIGENV", False).getVar("HOME") == d.getVar("HOME")))
        tools = d.getVar("TOOLS_DIR")
        bb.utils.mkdirhier(tools)
        if not os.path.exists(os.path.join(tools, "sh")):
            os.symlink("/bin/sh", os.path.join(tools, "sh"))
        with open(os.path.join(tools, "made-by-handler"), "w") as f:
            f.write("written\n")
        d.setVar("TOOLS_MADE", "yes")
}
