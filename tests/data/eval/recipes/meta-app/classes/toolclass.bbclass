# Inherited with inherit_defer: read after the recipe and its appends.
TOOL_CLASS_SAW = "${PN} ${TOOL_NOTE}"
TOOL_CLASS_NOTE := "${TOOL_NOTE}"
