"""`bitzel_sandbox_repository`: finds the sandbox helper for a workspace, no hand steps."""

def _bitzel_sandbox_repository_impl(rctx):
    path = rctx.os.environ.get("BITZEL_SANDBOX", "")
    if path:
        helper = rctx.path(path)
    elif rctx.attr.helper:
        helper = rctx.path(rctx.attr.helper)
    else:
        helper = rctx.which("bitzel-sandbox")
    if not helper or not helper.exists:
        fail("bitzel-sandbox not found: install bitzel (it puts bitzel-sandbox beside " +
             "bitzel on PATH) or set BITZEL_SANDBOX to the helper (--repo_env=BITZEL_SANDBOX=...)")

    # A symlink: the action sees `external/bitzel_sandbox/bitzel-sandbox`, and its key
    # holds the helper's digest, never the machine's path to it.
    rctx.symlink(helper, "bitzel-sandbox")
    rctx.file("BUILD.bazel", """exports_files(["bitzel-sandbox"], visibility = ["//visibility:public"])\n""")
    rctx.file("WORKSPACE", "workspace(name = \"%s\")\n" % rctx.name)

bitzel_sandbox_repository = repository_rule(
    implementation = _bitzel_sandbox_repository_impl,
    doc = """A repository whose `:bitzel-sandbox` is the helper `bitbake_task` runs by default.

Where it comes from, first match: the BITZEL_SANDBOX environment variable (or
`--repo_env=BITZEL_SANDBOX=...`), the `helper` attribute, `bitzel-sandbox` on PATH.""",
    attrs = {
        "helper": attr.label(
            allow_single_file = True,
            doc = "A helper inside the workspace, used when BITZEL_SANDBOX is unset.",
        ),
    },
    environ = ["BITZEL_SANDBOX", "PATH"],
    local = True,
)
