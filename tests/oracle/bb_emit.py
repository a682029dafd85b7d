#!/usr/bin/env python3
"""What real BitBake runs for each task of some recipes, as JSON, for bitzel's emit tests.

    bb_emit.py [--workdir DIR] [--pycache DIR] --out OUTDIR BUILDDIR PN...

Runs `bitbake -R POST.conf -p` on BUILDDIR through bitbake_oracle.py (its temporary
BitBake tree and build-directory copy; `--workdir` keeps that copy, so that bitzel can
read the same configuration). POST.conf (written to a temporary directory) adds that
directory's classes to BBPATH and inherits classes/bitzel_emit_oracle.bbclass, whose
RecipeParsed handler calls `dump` below for every variant of the recipes named in
BITZEL_EMIT_PNS. For each task `dump` builds the data store the task would run with (as
bitbake-worker's fork_off_task and bb.build._exec_task/_task_data do, with DATE, TIME and
BUILDNAME pinned as bitzel pins them) and writes, with BitBake's own functions:

- for a shell function: the run file exactly as bb.build.exec_func_shell writes it
  (shell_trap_code(), bb.data.emit_func, `cd` into the last [dirs], the call, the trailer),
  for the task itself, its shell [prefuncs]/[postfuncs], and for do_populate_sysroot the
  shell functions it exec_func's (sysroot_stage_all, SYSROOT_PREPROCESS_FUNCS);
- the task's flags ([dirs]/[cleandirs] expanded, noexec, fakeroot, nostamp, python);
- for each SRC_URI entry: bb.fetch2.decodeurl's tuple and what bb.fetch2.Fetch computes
  (local path and FILESPATH candidates, checksum name and value, git revision...);
- oe.patch.src_patches(d) when the layers have `oe`;
- the environment BitBake was given (BB_ORIGENV), so that bitzel reads the same one.

OUTDIR/<PN>[-<variant>].json per variant; the handler runs in BitBake's parser processes.

Poky (tests/emit_scripts.rs poky_shell_run_files_equal_bitbakes, BITZEL_POKY_EMIT=DIR):
Poky's sanity checks refuse root, so run it as an ordinary user, e.g.

    su bboracle -s /bin/bash -c "LANG=en_US.UTF-8 LC_ALL=en_US.UTF-8 \
        BITZEL_POKY=/work/poky/scarthgap python3 tests/oracle/bb_emit.py \
        --workdir DIR/wd --pycache DIR/pycache --out DIR/out POKY_BUILD_DIR \
        zlib zlib-native nativesdk-zlib base-files busybox"

(a cold parse of Poky: about 5 minutes on the shared 2 cores).
"""

import io
import json
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

# Must equal src/emit/script.rs PINNED_DATE / PINNED_TIME.
PINNED_DATE = "19700101"
PINNED_TIME = "000000"


def task_data(d, fn, task):
    """The store bitbake-worker and bb.build._exec_task give `task` (bitzel's task_store)."""
    import bb
    import bb.build
    import bb.data

    ld = bb.data.createCopy(d)
    # bitbake-worker fork_off_task
    ld.setVar("BB_WORKERCONTEXT", "1")
    ld.setVar("BB_CURRENTTASK", task.replace("do_", ""))
    ld.setVar("DATE", PINNED_DATE)
    ld.setVar("TIME", PINNED_TIME)
    ld.setVar("BUILDNAME", PINNED_DATE + PINNED_TIME[:4])
    exports = ld.getVarFlag(task, "exports")
    if exports:
        for e in exports.split():
            ld.setVarFlag(e, "export", "1")
    # bb.build._task_data
    ld = bb.build._task_data(fn, task, ld)
    # bb.build._exec_task
    ld.setVar("BB_RUNTASK", task)
    # exec_func_shell
    ld.delVarFlag("PWD", "export")
    return ld


def run_file(ld, func):
    """The file bb.build.exec_func_shell writes for `func` (exec_func's cwd handling)."""
    import bb
    import bb.build
    import bb.data
    import bb.utils

    o = io.StringIO()
    o.write(bb.build.shell_trap_code())
    bb.data.emit_func(func, o, ld)
    if bb.utils.to_boolean(ld.getVar("BB_VERBOSE_LOGS", False)):
        o.write("set -x\n")
    flags = ld.getVarFlags(func) or {}
    dirs = flags.get("dirs")
    cwd = None
    if dirs:
        dirs = ld.expand(dirs).split()
        if dirs:
            cwd = dirs[-1]
    if cwd:
        o.write("cd '%s'\n" % cwd)
    o.write("%s\n" % func)
    o.write("\n# cleanup\nret=$?\ntrap '' 0\nexit $ret\n")
    return o.getvalue()


def func_record(ld, func):
    python = bool(ld.getVarFlag(func, "python", False))
    rec = {"name": func, "python": python}
    if not python and ld.getVarFlag(func, "func", False):
        try:
            rec["run"] = run_file(ld, func)
        except Exception as ex:  # noqa: BLE001 - reported, compared as an error
            rec["error"] = "%s: %s" % (type(ex).__name__, ex)
    return rec


def source_record(d, url):
    import bb.fetch2

    rec = {"url": url}
    try:
        t = bb.fetch2.decodeurl(url)
        rec["decoded"] = [t[0], t[1], t[2], t[3], t[4], [[k, v] for k, v in t[5].items()]]
    except Exception as ex:  # noqa: BLE001
        rec["decode_error"] = str(ex)
        return rec
    try:
        fetcher = bb.fetch2.Fetch([url], d)
        ud = fetcher.ud[url]
        rec["type"] = ud.type
        rec["localpath"] = fetcher.localpath(url)
        rec["sha256_name"] = getattr(ud, "sha256_name", None)
        rec["sha256_expected"] = getattr(ud, "sha256_expected", None)
        rec["parm"] = [[k, v] for k, v in ud.parm.items()]
        rec["fetch_url"] = ud.url
        if ud.type == "file":
            rec["searched"] = ud.method.localfile_searchpaths(ud, d)
        if ud.type in ("git", "gitsm"):
            name = ud.names[0] if hasattr(ud, "names") else getattr(ud, "name", "default")
            # BitBake 2.19 has one name per URL (ud.revision, ud.branch)
            rec["revision"] = ud.revisions.get(name) if hasattr(ud, "revisions") else ud.revision
            rec["proto"] = ud.proto
            rec["branch"] = ud.branches.get(name) if hasattr(ud, "branches") else ud.branch
            rec["clonedir"] = os.path.basename(ud.clonedir)
    except Exception as ex:  # noqa: BLE001
        rec["fetch_error"] = "%s: %s" % (type(ex).__name__, ex)
    return rec


def dump(e, d):
    """RecipeParsed handler body (bitzel_emit_oracle.bbclass)."""
    pn = d.getVar("PN")
    if pn not in (d.getVar("BITZEL_EMIT_PNS") or "").split():
        return
    curr = d.getVar("BBEXTENDCURR") or ""
    variant = d.getVar("BBEXTENDVARIANT") or ""
    cls = curr + (":" + variant if variant else "") if curr else ""
    fn = ("virtual:%s:%s" % (cls, e.fn)) if cls else e.fn
    tasks = {}
    for task in d.getVar("__BBTASKS", False) or []:
        flags = d.getVarFlags(task) or {}
        ld = task_data(d, fn, task)
        rec = {
            "python": bool(flags.get("python")),
            "noexec": "noexec" in flags,
            "fakeroot": "fakeroot" in flags,
            "nostamp": "nostamp" in flags,
            "dirs": ld.expand(ld.getVarFlag(task, "dirs", False) or "").split(),
            "cleandirs": ld.expand(ld.getVarFlag(task, "cleandirs", False) or "").split(),
        }
        if not rec["python"] and not rec["noexec"]:
            rec["run"] = func_record(ld, task).get("run")
        for flag in ("prefuncs", "postfuncs"):
            rec[flag] = [func_record(ld, f) for f in (ld.getVarFlag(task, flag, expand=True) or "").split()]
        if task == "do_populate_sysroot":
            rec["stage"] = [func_record(ld, f) for f in ["sysroot_stage_all"] + (ld.getVar("SYSROOT_PREPROCESS_FUNCS") or "").split()]
        tasks[task] = rec
    sources = [source_record(d, u) for u in (d.getVar("SRC_URI") or "").split()]
    patches = None
    try:
        import oe.patch

        patches = oe.patch.src_patches(d)
    except Exception as ex:  # noqa: BLE001 - layers without oe
        patches = "unavailable: %s" % ex
    origenv = d.getVar("BB_ORIGENV", False)
    env = {}
    if origenv is not None:
        for k in origenv.keys():
            v = origenv.getVar(k)
            if isinstance(v, str):
                env[k] = v
    out = {
        "bitbake": __import__("bb").__version__,
        "pn": pn,
        "variant": cls,
        "fn": fn,
        "file": d.getVar("FILE"),
        "workdir": d.getVar("WORKDIR"),
        "s": d.getVar("S"),
        "tasks": tasks,
        "sources": sources,
        "patches": patches,
        "env": env,
    }
    name = pn + (("-" + cls.replace(":", "-")) if cls and not pn.endswith(cls) else "")
    path = os.path.join(d.getVar("BITZEL_EMIT_OUT"), name + ".json")
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, sort_keys=True)
    os.rename(path + ".tmp", path)


def main(argv):
    import argparse

    sys.path.insert(0, HERE)
    import bitbake_oracle

    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--workdir")
    parser.add_argument("--pycache")
    parser.add_argument("builddir")
    parser.add_argument("pns", nargs="+")
    args = parser.parse_args(argv)
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    conf_dir = tempfile.mkdtemp(prefix="bitzel-emit-oracle-")
    post = os.path.join(conf_dir, "post.conf")
    with open(post, "w", encoding="utf-8") as f:
        f.write('BBPATH .= ":%s"\n' % HERE)
        f.write('INHERIT += "bitzel_emit_oracle"\n')
        f.write('BITZEL_EMIT_OUT = "%s"\n' % out)
        f.write('BITZEL_EMIT_PNS = "%s"\n' % " ".join(args.pns))
        f.write('BITZEL_EMIT_LIB = "%s"\n' % conf_dir)
    # The handler imports this file as bb_emit_oracle from BITZEL_EMIT_LIB.
    os.symlink(os.path.abspath(__file__), os.path.join(conf_dir, "bb_emit_oracle.py"))
    oracle_args = []
    if args.workdir:
        oracle_args += ["--workdir", args.workdir]
    if args.pycache:
        oracle_args += ["--pycache", args.pycache]
    oracle_args += ["--outdir", out, args.builddir, "--", "-R", post, "-p"]
    try:
        return bitbake_oracle.main(oracle_args)
    finally:
        shutil.rmtree(conf_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
