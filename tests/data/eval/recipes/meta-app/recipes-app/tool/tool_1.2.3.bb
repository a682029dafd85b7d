SUMMARY = "The tool"
LICENSE = "MIT"
TOOL_NOTE = "base"
inherit_defer ${TOOL_CLASS}
TOOL_CLASS = "toolclass"
BBCLASSEXTEND = "native"
