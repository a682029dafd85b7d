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

def _fetch(rctx, git, mirror, remote, clone_dir, wanted):
    """BitBake's download: the branches of `wanted` ((rev, branch) pairs; every ref when
    a branch is empty, nobranch=1) into the bare `mirror`, from a BitBake DL_DIR's clone
    (BITZEL_DL_DIR/git2/<clone_dir>) first, as BitBake uses its own before the network,
    then from `remote`; fails unless each rev is on its branch."""
    _git_ok(rctx, git, ["init", "--quiet", "--bare", mirror], "git init")
    if [b for _, b in wanted if not b]:
        refspecs = ["+refs/*:refs/*"]
    else:
        refspecs = []
        for _, b in wanted:
            spec = "+refs/heads/%s:refs/heads/%s" % (b, b)
            if spec not in refspecs:
                refspecs.append(spec)
    places = []
    dl_dir = rctx.os.environ.get("BITZEL_DL_DIR", "")
    if dl_dir and clone_dir:
        clone = rctx.path(dl_dir + "/git2/" + clone_dir)
        if clone.exists:
            places.append(str(clone))
    places.append(remote)
    errors = []
    missing = None
    for place in places:
        fetched = _git(rctx, git, ["-C", mirror, "fetch", "--quiet", "--force", place] + refspecs, _TIMEOUT)
        if fetched.return_code != 0:
            errors.append("git fetch %s: %s" % (place, fetched.stderr))
            continue

        # bb.fetch2.git._contains_ref, for each name.
        missing = None
        for rev, branch in wanted:
            if branch:
                found = _git(rctx, git, ["-C", mirror, "branch", "--contains", rev, "--list", branch])
            else:
                found = _git(rctx, git, ["-C", mirror, "log", "--pretty=oneline", "-n", "1", rev, "--"])
            if found.return_code != 0 or not found.stdout.strip():
                missing = (rev, branch)
                break
        if not missing:
            return

    if len(errors) == len(places):
        fail("bitbake_git_repository %s: Fetcher failure: no place to fetch from answered\n%s" % (
            remote,
            "".join(errors),
        ))

    # bb.fetch2.git.Git.download's error.
    fail("bitbake_git_repository %s: Unable to find revision %s in branch %s even from upstream\n%s" % (
        remote,
        missing[0] if missing else wanted[0][0],
        missing[1] if missing else wanted[0][1],
        "".join(errors),
    ))

def _bundle(rctx, git, mirror, rev, branch, bundle, others = []):
    """A bundle of `rev` alone: HEAD (and refs/heads/<branch>) at it, the tags merged
    into it, with the history they reach; `others` ((rev, branch) pairs of the other
    names) add their branch at their rev and their merged tags."""
    made = rctx.execute(["mkdir", "-p", str(rctx.path(bundle).dirname)])
    if made.return_code != 0:
        fail("bitbake_git_repository: mkdir for %s: %s" % (bundle, made.stderr))
    tags = _git_ok(rctx, git, ["-C", mirror, "tag", "--merged", rev], "git tag --merged").splitlines()
    _git_ok(rctx, git, ["-C", mirror, "update-ref", "--no-deref", "HEAD", rev], "git update-ref HEAD")
    refs = ["HEAD"]
    for r, b in [(rev, branch)] + others:
        if b and "refs/heads/" + b not in refs:
            _git_ok(rctx, git, ["-C", mirror, "update-ref", "refs/heads/" + b, r], "git update-ref")
            refs.append("refs/heads/" + b)
        if r != rev:
            tags = tags + _git_ok(rctx, git, ["-C", mirror, "tag", "--merged", r], "git tag --merged").splitlines()
    if not branch:
        # Every ref was fetched: the branches merged into `rev` too (BitBake's clone has
        # every branch; `git describe --all` sees only those behind `rev`).
        heads = _git_ok(rctx, git, ["-C", mirror, "for-each-ref", "--merged", rev, "--format=%(refname)", "refs/heads"], "git for-each-ref")
        refs.extend(sorted([h for h in heads.splitlines() if h and h not in refs]))
    refs.extend(sorted({"refs/tags/" + t: None for t in tags if t}.keys()))
    _git_ok(rctx, git, ["-C", mirror, "bundle", "create", bundle] + refs, "git bundle create", _TIMEOUT)

def _split_remote(remote):
    """(protocol, user, host, path) of `PROTOCOL://[USER@]HOST/PATH`."""
    proto, rest = remote.split("://", 1)
    user = ""
    at = rest.find("@")
    slash = rest.find("/")
    if at >= 0 and (slash < 0 or at < slash):
        user = rest[:at]
        rest = rest[at + 1:]
        slash = rest.find("/")
    if slash < 0:
        return proto, user, rest, "/"
    return proto, user, rest[:slash], rest[slash:]

def _normpath(path):
    """os.path.normpath of an absolute path."""
    parts = []
    for c in path.split("/"):
        if c in ("", "."):
            continue
        if c == "..":
            if parts:
                parts.pop()
            continue
        parts.append(c)
    return "/" + "/".join(parts)

def _clone_dir(host, path):
    """bb.fetch2.git's gitsrcname: BitBake's clone directory name."""
    name = host.replace(":", ".") + path.replace("/", ".").replace("*", ".").replace(" ", "_").replace("(", "_").replace(")", "_")
    return name[1:] if name.startswith(".") else name

def _submodule_remote(parent, uri):
    """bb.fetch2.gitsm's process_submodules: a submodule's URL (relative to the parent's,
    `host:path` for ssh, a path for file) as (remote, clone directory)."""
    proto, user, host, path = _split_remote(parent)
    if uri.startswith("..") or uri.startswith("./"):
        uri = "%s://%s%s%s" % (proto, user + "@" if user else "", host, _normpath(path + "/" + uri))
    if "://" in uri:
        sproto = uri.split(":", 1)[0]
        rest = uri.split("://", 1)[1]
    elif ":" in uri:
        sproto = "ssh"
        rest = uri.replace(":/", "/", 1) if ":/" in uri else uri.replace(":", "/", 1)
    else:
        sproto = "file"
        rest = uri
    _, suser, shost, spath = _split_remote("gitsm://" + rest)
    if shost == "github.com" and sproto == "git":
        sproto = "https"
    remote = "%s://%s%s%s" % (sproto, suser + "@" if suser else "", shost, spath)
    return remote, _clone_dir(shost, spath)

def _gitmodules(rctx, git, mirror, rev):
    """parse_gitmodules of `rev:.gitmodules`, BitBake's line parser: [(name, path, url)]."""
    shown = _git(rctx, git, ["-C", mirror, "show", rev + ":.gitmodules"])
    if shown.return_code != 0:
        return []
    modules = {}
    module = ""
    for line in shown.stdout.splitlines():
        if line.startswith("[submodule"):
            module = line.split('"')[1]
            modules[module] = {}
        elif module and line.strip().startswith("path"):
            modules[module]["path"] = line.split("=")[1].strip()
        elif module and line.strip().startswith("url"):
            modules[module]["url"] = line.split("=")[1].strip()
    return [(m, d.get("path", ""), d.get("url", "")) for m, d in modules.items()]

def _bitbake_git_repository_impl(rctx):
    rev = rctx.attr.rev
    if len(rev) != 40 or rev.lower() != rev or [c for c in rev.elems() if c not in "0123456789abcdef"]:
        fail("bitbake_git_repository %s: rev %r is not a commit id" % (rctx.attr.remote, rev))
    git = rctx.which("git")
    if not git:
        fail("bitbake_git_repository %s: git is not on PATH (BitBake's git fetcher needs it too)" % rctx.attr.remote)
    branch = rctx.attr.branch
    out = "git.tar" if rctx.attr.submodules else "git.bundle"
    rctx.file("file/BUILD.bazel", "filegroup(\n    name = \"file\",\n    srcs = [\"%s\"],\n    visibility = [\"//visibility:public\"],\n)\n" % out)
    mirror = str(rctx.path("mirror.git"))
    if len(rctx.attr.other_revs) != len(rctx.attr.other_branches):
        fail("bitbake_git_repository %s: other_revs and other_branches differ in length" % rctx.attr.remote)
    others = [(r, rctx.attr.other_branches[i]) for i, r in enumerate(rctx.attr.other_revs)]
    _fetch(rctx, git, mirror, rctx.attr.remote, rctx.attr.clone_dir, [(rev, branch)] + others)
    if not rctx.attr.submodules:
        _bundle(rctx, git, mirror, rev, branch, str(rctx.path("file/git.bundle")), others)
        rctx.delete(mirror)
    else:
        # bb.fetch2.gitsm: every submodule of `rev` with a commit in its tree,
        # recursively, each fetched (nobranch) and bundled at that commit. The tar holds
        # git.bundle, modules/<key>.bundle (key: <name>[/modules/<name>...], the git
        # directory under .git/modules) and modules.txt, one line a submodule in
        # BitBake's order: key, name, path, remote, clone directory, tab-separated.
        stage = "gitsm"
        _bundle(rctx, git, mirror, rev, branch, str(rctx.path(stage + "/git.bundle")))
        lines = []
        queue = [("", rctx.attr.remote, rev, mirror)]
        for _ in range(100000):
            if not queue:
                break
            key, remote, at, repo = queue.pop(0)
            for name, path, uri in _gitmodules(rctx, git, repo, at):
                if not path or not uri:
                    continue
                listed = _git(rctx, git, ["-C", repo, "ls-tree", "-z", "-d", at, path])
                if listed.return_code != 0 or not listed.stdout:
                    continue
                subrev = listed.stdout.replace("\t", " ").split(" ")[2]
                sub_remote, sub_clone = _submodule_remote(remote, uri)
                subkey = name if not key else key + "/modules/" + name
                for c in subkey.split("/"):
                    if c in ("", ".", ".."):
                        fail("bitbake_git_repository %s: submodule name %r is not a path" % (rctx.attr.remote, name))
                sub_mirror = str(rctx.path("submodules/%d.git" % len(lines)))
                _fetch(rctx, git, sub_mirror, sub_remote, sub_clone, [(subrev, "")])
                _bundle(rctx, git, sub_mirror, subrev, "", str(rctx.path("%s/modules/%s.bundle" % (stage, subkey))))
                lines.append("\t".join([subkey, name, path, sub_remote, sub_clone]))
                queue.append((subkey, sub_remote, subrev, sub_mirror))
        rctx.file(stage + "/modules.txt", "".join([line + "\n" for line in lines]))
        tar = rctx.which("tar")
        if not tar:
            fail("bitbake_git_repository %s: tar is not on PATH" % rctx.attr.remote)
        packed = rctx.execute([
            tar,
            "--sort=name",
            "--format=gnu",
            "--owner=0",
            "--group=0",
            "--numeric-owner",
            "--mtime=@0",
            "--mode=u=rwX,go=rX",
            "-cf",
            str(rctx.path("file/git.tar")),
            "-C",
            str(rctx.path(stage)),
            ".",
        ])
        if packed.return_code != 0:
            fail("bitbake_git_repository %s: tar failed:\n%s" % (rctx.attr.remote, packed.stderr))
        rctx.delete(mirror)
        rctx.delete("submodules")
        rctx.delete(stage)
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
        "other_branches": attr.string_list(doc = "name=a,b,...: the other names' branches (empty for nobranch=1)."),
        "other_revs": attr.string_list(doc = "name=a,b,...: the other names' commits, fetched and checked too."),
        "remote": attr.string(mandatory = True, doc = "The remote to fetch."),
        "rev": attr.string(mandatory = True, doc = "The commit (SRCREV), 40 hex digits."),
        "submodules": attr.bool(doc = "gitsm://: the submodules too; `@<name>//file` is then a tar of bundles."),
    },
    environ = ["BITZEL_DL_DIR"],
)
