"""`bitbake_git_repository`: a git SRC_URI entry at its SRCREV, fetched in Bazel's
repository phase as BitBake's git fetcher (bb.fetch2.git) fetches it, kept as one file.

BitBake's do_fetch clones the remote into DL_DIR/git2/<host.path> (a bare mirror) and
checks that SRCREV is on the branch; do_unpack then clones that mirror into WORKDIR.
This rule does the fetch: it fetches `branch` (every ref with `nobranch=1`), with the
tags that point into its history, from a BitBake DL_DIR's clone when BITZEL_DL_DIR
names one that has `rev`, else from the remote; fails as BitBake does when `rev` is not
on it; and
writes a git bundle of `rev` alone: `HEAD` and `refs/heads/<branch>` at `rev`, and the
tags merged into `rev` (what `git describe` can see), with the history they reach.
`@<name>//file` is that bundle; the sandbox helper's `unpack` clones it where BitBake's
do_unpack would check out (rules_bitbake/HELPER.md, `git` lines).

The bundle does not depend on where the branch is now (only on `rev` and the tags that
reach it), nor on this machine's paths; packing is single-threaded, so the same fetched
objects give the same bytes.
"""

# BitBake's FETCHCMD_git, single-threaded packing so that the bundle is reproducible.
_GIT_CONFIG = [
    "-c",
    "gc.autoDetach=false",
    "-c",
    "core.pager=cat",
    "-c",
    "safe.bareRepository=all",
    "-c",
    "pack.threads=1",
]

# A fetch of a big repository (a kernel) may take hours; BitBake sets no limit either.
_TIMEOUT = 6 * 3600

def _git(rctx, git, args, timeout = 600):
    return rctx.execute(
        [git] + _GIT_CONFIG + args,
        timeout = timeout,
        environment = {"GIT_TERMINAL_PROMPT": "0", "LANG": "C", "LC_ALL": "C"},
        quiet = True,
    )

def _git_ok(rctx, git, args, what, timeout = 600):
    result = _git(rctx, git, args, timeout)
    if result.return_code != 0:
        fail("bitbake_git_repository %s: %s failed (exit %d):\n%s%s" % (
            rctx.attr.remote,
            what,
            result.return_code,
            result.stdout,
            result.stderr,
        ))
    return result.stdout

def _bitbake_git_repository_impl(rctx):
    rev = rctx.attr.rev
    if len(rev) != 40 or rev.lower() != rev or [c for c in rev.elems() if c not in "0123456789abcdef"]:
        fail("bitbake_git_repository %s: rev %r is not a commit id" % (rctx.attr.remote, rev))
    git = rctx.which("git")
    if not git:
        fail("bitbake_git_repository %s: git is not on PATH (BitBake's git fetcher needs it too)" % rctx.attr.remote)
    mirror = str(rctx.path("mirror.git"))
    branch = rctx.attr.branch
    _git_ok(rctx, git, ["init", "--quiet", "--bare", mirror], "git init")
    if branch:
        refspecs = ["+refs/heads/%s:refs/heads/%s" % (branch, branch)]
    else:
        refspecs = ["+refs/*:refs/*"]

    # A BitBake DL_DIR's clone (BITZEL_DL_DIR/git2/<clone_dir>, a bare mirror) first,
    # as BitBake uses its own before the network; then the remote.
    places = []
    dl_dir = rctx.os.environ.get("BITZEL_DL_DIR", "")
    if dl_dir and rctx.attr.clone_dir:
        clone = rctx.path(dl_dir + "/git2/" + rctx.attr.clone_dir)
        if clone.exists:
            places.append(str(clone))
    places.append(rctx.attr.remote)
    errors = []
    missing = True
    for place in places:
        fetched = _git(rctx, git, ["-C", mirror, "fetch", "--quiet", "--force", place] + refspecs, _TIMEOUT)
        if fetched.return_code != 0:
            errors.append("git fetch %s: %s" % (place, fetched.stderr))
            continue

        # bb.fetch2.git._contains_ref.
        if branch:
            found = _git(rctx, git, ["-C", mirror, "branch", "--contains", rev, "--list", branch])
        else:
            found = _git(rctx, git, ["-C", mirror, "log", "--pretty=oneline", "-n", "1", rev, "--"])
        missing = found.return_code != 0 or not found.stdout.strip()
        if not missing:
            break
    if missing:
        # bb.fetch2.git.Git.download's error.
        fail("bitbake_git_repository %s: Unable to find revision %s in branch %s even from upstream\n%s" % (
            rctx.attr.remote,
            rev,
            branch,
            "".join(errors),
        ))

    tags = _git_ok(rctx, git, ["-C", mirror, "tag", "--merged", rev], "git tag --merged").splitlines()
    _git_ok(rctx, git, ["-C", mirror, "update-ref", "--no-deref", "HEAD", rev], "git update-ref HEAD")
    refs = ["HEAD"]
    if branch:
        _git_ok(rctx, git, ["-C", mirror, "update-ref", "refs/heads/" + branch, rev], "git update-ref")
        refs.append("refs/heads/" + branch)
    refs.extend(sorted(["refs/tags/" + t for t in tags if t]))
    bundle = str(rctx.path("file/git.bundle"))
    rctx.file("file/BUILD.bazel", "filegroup(\n    name = \"file\",\n    srcs = [\"git.bundle\"],\n    visibility = [\"//visibility:public\"],\n)\n")
    _git_ok(rctx, git, ["-C", mirror, "bundle", "create", bundle] + refs, "git bundle create", _TIMEOUT)
    rctx.delete(mirror)
    rctx.file("WORKSPACE", "workspace(name = \"%s\")\n" % rctx.name)

bitbake_git_repository = repository_rule(
    implementation = _bitbake_git_repository_impl,
    doc = """A git SRC_URI entry at SRCREV, as a git bundle at `@<name>//file`.

`remote` is BitBake's repository URL (`PROTOCOL://[USER@]HOST/PATH`), `rev` the commit,
`branch` the branch that must contain it (empty for `nobranch=1`). The bundle holds `HEAD`
and `refs/heads/<branch>` at `rev` and the tags merged into `rev`, with their history.
With BITZEL_DL_DIR set (`--repo_env=BITZEL_DL_DIR=<a BitBake DL_DIR>`), its clone
`git2/<clone_dir>` is tried before the remote.""",
    attrs = {
        "branch": attr.string(doc = "The branch that must contain `rev`; empty for nobranch=1."),
        "clone_dir": attr.string(doc = "BitBake's clone directory under DL_DIR/git2 (`<host>.<path>`)."),
        "remote": attr.string(mandatory = True, doc = "The remote to fetch."),
        "rev": attr.string(mandatory = True, doc = "The commit (SRCREV), 40 hex digits."),
    },
    environ = ["BITZEL_DL_DIR"],
)
