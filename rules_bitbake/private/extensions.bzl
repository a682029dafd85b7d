"""Module extension (Bazel 6+, bzlmod) that defines the `bitzel_sandbox` repository.

Loaded only from MODULE.bazel: Bazel 4 never reads this file."""

load(":repositories.bzl", "bitzel_sandbox_repository")

def _sandbox_impl(mctx):
    _ = mctx  # buildifier: disable=unused-variable
    bitzel_sandbox_repository(name = "bitzel_sandbox")

sandbox = module_extension(
    implementation = _sandbox_impl,
    doc = "Defines `@bitzel_sandbox`, found as bitzel_sandbox_repository says.",
)
