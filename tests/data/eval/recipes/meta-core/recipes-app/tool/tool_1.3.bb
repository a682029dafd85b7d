# Newer than meta-app's tool 1.2.3, but in the lower-priority layer: not chosen.
SUMMARY = "The tool, from the core layer"
TOOL_NOTE = "core"
