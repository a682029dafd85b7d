# bitzel's emit oracle (tests/oracle/bb_emit.py): at RecipeParsed, for the recipes named
# in BITZEL_EMIT_PNS, write what real BitBake would run for each task into
# ${BITZEL_EMIT_OUT}/<PN>.json. Inherited only through the oracle's post-read
# configuration file; it adds a Python function and a handler, which emit_func never
# writes, so the scripts compared are those of the recipe without it.

addhandler bitzel_emit_oracle_handler
bitzel_emit_oracle_handler[eventmask] = "bb.event.RecipeParsed"

python bitzel_emit_oracle_handler() {
    import sys
    lib = d.getVar('BITZEL_EMIT_LIB')
    if lib not in sys.path:
        sys.path.insert(0, lib)
    import bb_emit_oracle
    bb_emit_oracle.dump(e, d)
}
