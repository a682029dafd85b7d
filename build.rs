//! Build script: lets the binaries find libpython at run time.
//!
//! bitzel embeds CPython through PyO3 (see src/eval/python.rs). PyO3 links against the
//! libpython of the interpreter it finds at build time (`PYO3_PYTHON`, else `python3`);
//! when that library lives outside the loader's default folders (pyenv, a custom
//! prefix), an rpath to its folder makes the built binaries and tests run without
//! LD_LIBRARY_PATH.

fn main() {
    pyo3_build_config::add_libpython_rpath_link_args();
}
