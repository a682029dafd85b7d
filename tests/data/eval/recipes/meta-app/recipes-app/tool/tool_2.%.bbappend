TOOL_NOTE:append = " wrong-version"
