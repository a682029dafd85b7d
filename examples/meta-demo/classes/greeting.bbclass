# Shared settings of the demo's recipes.
GREETING ??= "Hello"
GREETING_TARGET ?= "world"

EXTRA_OEMAKE = "'GREETING=${GREETING}' 'PREFIX=${prefix}'"

greeting_do_compile() {
	oe_runmake -C ${S}
}

EXPORT_FUNCTIONS do_compile
