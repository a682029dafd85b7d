export_functions_do_compile() {
  :
}
EXPORT_FUNCTIONS do_compile do_install
