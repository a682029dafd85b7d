//! SRC_URI entries as Bazel repository rules and file:// inputs found through FILESPATH.
