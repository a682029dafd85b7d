# Applies to tool_1.2.3.bb, not to tool_1.3.bb: the prefix before % is "tool_1.2.".
TOOL_NOTE:append = " one-two-percent"
TOOL_APPENDS += "one-two"
