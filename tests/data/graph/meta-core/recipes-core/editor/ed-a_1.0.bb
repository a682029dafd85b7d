SUMMARY = "An editor"
RPROVIDES:${PN} = "editor"
