#!/usr/bin/env python3
"""Dump what real BitBake knows about every parsed recipe, as JSON, for bitzel's graph tests.

    bb_recipeinfo.py [--outdir OUT] BUILDDIR [-- BITBAKE-ARGS [-- BITBAKE-ARGS ...]]
    bb_recipeinfo.py --from-cache CACHEDIR --env ENVFILE --lib BBLIB --out JSON

The second form reads a build that BitBake has already parsed (e.g. Poky's, made by
/work/shared/tools/bitbake-oracle): CACHEDIR holds its bb_cache.dat.*, ENVFILE is the
output of a global `bitbake -e` of that build, BBLIB the bitbake/lib whose `bb` wrote it.

bitzel's graph layer (src/graph) takes per-recipe facts as plain data: the fields of
BitBake's `CoreRecipeInfo` (bb/cache.py) that bb/providers.py, bb/taskdata.py and
bb/runqueue.py read, plus the configuration variables they read (ASSUME_PROVIDED,
PREFERRED_PROVIDER_*, PREFERRED_VERSION*, ...) and each file's layer priority.

The cheapest reliable source is BitBake's own recipe cache: after `bitbake -p`, CACHE holds
`bb_cache.dat.<hash>`, the pickled `CoreRecipeInfo` of every recipe variant (skipped ones
included), exactly what the cooker loads before building its task data. So this script:

1. runs, through bitbake_oracle.py (imported: its temporary BitBake tree, server launcher
   and build-directory copy), one server session: `bitbake -p`, `bitbake -e` (the global
   configuration), then any further commands given after `--` (e.g. `-g TARGET`), whose
   outputs land in OUT/3/, OUT/4/, ... as the oracle's README describes;
2. unpickles the cache with the same `bb` package (the pickles name its classes);
3. computes each file's BBFILE_PRIORITY the way CookerCollectFiles.calc_bbfile_priority
   does (patterns sorted longest first, first match wins), from BBFILE_COLLECTIONS,
   BBFILE_PATTERN_* and BBFILE_PRIORITY_* of the global configuration;
4. writes OUT/recipeinfo.json.

The build directory's configuration must set CACHE (Poky's bitbake.conf does).
"""

import json
import os
import pickle
import re
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bitbake_oracle  # noqa: E402

# Global variables the graph reads (bb/providers.py, bb/cooker.py handlePrefProviders).
CONFIG_VAR = re.compile(
    r"^(ASSUME_PROVIDED|PREFERRED_PROVIDERS|BB_DEFAULT_TASK|CACHE"
    r"|PREFERRED_(PROVIDER|RPROVIDER)_.+|(PREFERRED|REQUIRED)_VERSION.*"
    r"|BBFILE_COLLECTIONS|BBFILE_PATTERN_.+|BBFILE_PRIORITY_.+)$"
)


def parse_env(text):
    """Variables of `bitbake -e` output: `[export ]NAME="value"`, `\\` continuations joined."""
    out = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        m = re.match(r'^(?:export )?([^\s=#"]+)="(.*)$', line)
        if not m:
            continue
        name, rest = m.group(1), m.group(2)
        while rest.endswith("\\") and i < len(lines):
            rest = rest[:-1] + "\n" + lines[i]
            i += 1
        if not rest.endswith('"'):
            continue
        value = rest[:-1].replace('\\"', '"').replace("\\$", "$")
        out[name] = value.replace(" \n", " ").replace("\n", "")
    return out


def layer_priorities(env):
    """(pattern, regex, priority) longest pattern first, as CookerCollectFiles sorts them."""
    prios = []
    for c in env.get("BBFILE_COLLECTIONS", "").split():
        pattern = env.get("BBFILE_PATTERN_" + c, "")
        if not pattern:
            continue
        prios.append((pattern, re.compile(pattern), int(env.get("BBFILE_PRIORITY_" + c, "0") or 0)))
    return sorted(prios, key=lambda t: t[0], reverse=True)


def realfn(virtualfn):
    """bb.cache.virtualfn2realfn: strip `mc:X:` and `virtual:CLS:` prefixes (CLS may hold
    colons itself: `virtual:multilib:lib32:`, `virtual:mcextend:zlib:`)."""
    fn = virtualfn
    if fn.startswith("mc:") and fn.count(":") >= 2:
        fn = fn.split(":", 2)[2]
    if fn.startswith("virtual:"):
        fn = fn.split(":")[-1]
    return fn


def load_cache(cachedir):
    infos = {}
    for name in sorted(os.listdir(cachedir)):
        if not name.startswith("bb_cache.dat."):
            continue
        with open(os.path.join(cachedir, name), "rb") as f:
            p = pickle.Unpickler(f)
            p.load()  # cache version
            p.load()  # bitbake version
            while True:
                try:
                    key = p.load()
                    value = p.load()
                except EOFError:
                    break
                infos[key] = value
    return infos


def recipe_json(fn, info, prios):
    def get(name, default):
        return getattr(info, name, default)

    priority = 0
    for _, regex, pri in prios:
        if regex.match(realfn(fn)):
            priority = pri
            break
    task_deps = get("task_deps", None) or {"tasks": [], "parents": {}}
    flags = {}
    for key, value in task_deps.items():
        if key in ("tasks", "parents"):
            continue
        if isinstance(value, dict):
            flags[key] = {t: (v if isinstance(v, str) else str(v)) for t, v in value.items()}
    return {
        "fn": fn,
        "pn": info.pn,
        "pe": get("pe", None) or "",
        "pv": get("pv", None) or "",
        "pr": get("pr", None) or "",
        "default_preference": get("defaultpref", 0) or 0,
        "priority": priority,
        "provides": list(info.provides),
        "rprovides": list(info.rprovides),
        "depends": list(get("depends", [])),
        "rdepends": list(get("rdepends", [])),
        "rrecommends": list(get("rrecommends", [])),
        "packages": list(info.packages),
        "packages_dynamic": list(info.packages_dynamic),
        "rprovides_pkg": {k: list(v) for k, v in info.rprovides_pkg.items()},
        "rdepends_pkg": {k: list(v) for k, v in get("rdepends_pkg", {}).items()},
        "rrecommends_pkg": {k: list(v) for k, v in get("rrecommends_pkg", {}).items()},
        "tasks": list(task_deps.get("tasks", [])),
        "parents": {t: list(p) for t, p in task_deps.get("parents", {}).items()},
        "task_flags": flags,
        "skipreason": info.skipreason if info.skipped else None,
    }


def write_json(path, version, env, infos):
    prios = layer_priorities(env)
    recipes = [recipe_json(fn, infos[fn], prios) for fn in sorted(infos)]
    config = {k: v for k, v in sorted(env.items()) if CONFIG_VAR.match(k)}
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"bitbake": version, "config": config, "recipes": recipes}, f, indent=1)
        f.write("\n")


def from_cache(argv):
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--from-cache", required=True)
    parser.add_argument("--env", required=True)
    parser.add_argument("--lib", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    sys.path.insert(0, os.path.abspath(args.lib))
    import bb
    import bb.cache  # noqa: F401

    with open(args.env, encoding="utf-8", errors="replace") as f:
        env = parse_env(f.read())
    write_json(args.out, bb.__version__, env, load_cache(args.from_cache))
    return 0


def main(argv):
    if argv[:1] == ["--from-cache"]:
        return from_cache(argv)
    outdir = os.getcwd()
    if argv[:1] == ["--outdir"]:
        outdir, argv = argv[1], argv[2:]
    if not argv:
        sys.exit(__doc__)
    builddir, extra = argv[0], argv[1:]
    if extra[:1] == ["--"]:
        extra = extra[1:]
    outdir = os.path.abspath(outdir)
    os.makedirs(outdir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="bitzel-recipeinfo-")
    root = os.path.join(work, "root")
    try:
        pycache = os.path.join(tempfile.gettempdir(), "bitzel-recipeinfo-pycache")
        args = ["--workdir", root, "--outdir", outdir, "--pycache", pycache, builddir, "--", "-p", "--", "-e"]
        if extra:
            args += ["--"] + extra
        status = bitbake_oracle.main(args)
        with open(os.path.join(outdir, "2", "stdout"), encoding="utf-8") as f:
            env = parse_env(f.read())
        cachedir = env.get("CACHE")
        if not cachedir or not os.path.isdir(cachedir):
            sys.exit("bb_recipeinfo: no recipe cache (CACHE=%r); the configuration must set CACHE" % cachedir)
        sys.path.insert(0, os.path.join(root, "lib"))
        import bb  # noqa: F401
        import bb.cache  # noqa: F401

        write_json(os.path.join(outdir, "recipeinfo.json"), bb.__version__, env, load_cache(cachedir))
        return status
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
