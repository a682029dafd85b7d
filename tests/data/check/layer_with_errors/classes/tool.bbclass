TOOL_FLAGS = "-O2"

tool_do_compile() {
	echo "compiling with ${TOOL_FLAGS}"
  }
}

EXPORT_FUNCTIONS do_compile
