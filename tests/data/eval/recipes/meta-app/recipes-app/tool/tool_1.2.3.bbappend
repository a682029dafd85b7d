TOOL_NOTE:append = " exact"
TOOL_APPENDS += "exact"
