TOOL_NOTE:append = " one-percent"
TOOL_APPENDS += "percent"
