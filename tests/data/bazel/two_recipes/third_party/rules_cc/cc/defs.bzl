"""TEST STAND-IN for rules_cc, not rules_cc.

Bazel 4 parses @bazel_tools//tools/jdk (which loads @rules_cc//cc:defs.bzl) whenever it
resolves any toolchain, here skylib's unittest toolchain. Offline, the real rules_cc of
Bazel 4's era cannot be downloaded and Debian's bazel-rules-cc is too new for Bazel 4.
The tests use no C++: Bazel's native rules under rules_cc's names are enough to parse."""

cc_binary = native.cc_binary
cc_library = native.cc_library
cc_proto_library = native.cc_proto_library
cc_test = native.cc_test
cc_toolchain = native.cc_toolchain
cc_import = native.cc_import
cc_toolchain_suite = native.cc_toolchain_suite
