# A [noexec] that is not "1": BitBake's add_tasks warns about it (bitzel runs BitBake's
# own add_tasks for it) and keeps the value.
SUMMARY = "A flag add_tasks warns about"
do_install[noexec] = "0"
