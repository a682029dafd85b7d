SUMMARY = "Another editor"
RPROVIDES:${PN} = "editor"
