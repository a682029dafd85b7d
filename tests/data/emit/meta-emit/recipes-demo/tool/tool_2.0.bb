# tool: git at SRCREV (named and unnamed), gitsm, a crate, a scheme bitzel does not fetch,
# a Python SYSROOT_PREPROCESS_FUNCS entry; also built native.

SRC_URI = "git://git.example.com/tool.git;protocol=https;branch=main;destsuffix=tool-src \
           git://github.com/example/lib.git;name=lib;nobranch=1;protocol=https \
           gitsm://git.example.com/mods.git;protocol=https;branch=stable;name=mods;destsuffix=mods \
           crate://crates.io/serde/1.0.190 \
           svn://svn.example.com/repo;module=trunk;protocol=http \
           file://tool.sh \
          "
SRCREV = "0123456789abcdef0123456789abcdef01234567"
SRCREV_lib = "89abcdef0123456789abcdef0123456789abcdef"
SRCREV_mods = "00112233445566778899aabbccddeeff00112233"
SRC_URI[serde-1.0.190.sha256sum] = "91d3c334ca1ee894a2c6f6ad698fe8c435b76d504b13d436f0685d648d6d96f7"

S = "${WORKDIR}/tool-src"

do_configure () {
	install -m 0755 ${WORKDIR}/tool.sh ${B}/tool
	printf '%s\n' "${MULTI_WORD}" > ${B}/words
}
MULTI_WORD = "a 'b' \"c\" \$d"

SYSROOT_PREPROCESS_FUNCS += "tool_python_preprocess"
python tool_python_preprocess () {
    bb.note("preprocess")
}

do_stampless () {
	date
}
do_stampless[nostamp] = "1"
addtask stampless after do_compile

BBCLASSEXTEND = "native"
