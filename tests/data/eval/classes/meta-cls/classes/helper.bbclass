HELPER = "classes/helper.bbclass"
HELPER_COUNT .= "+"

helper_do_configure() {
	echo configure from helper
}
EXPORT_FUNCTIONS do_configure
