#!/usr/bin/env python3
"""Parse BitBake files with BitBake's own statement parser and print what it decided.

This is the oracle for bitzel's parser (tests/conformance.rs, benches/parse.rs). It calls
BitBake's real handlers -- BBHandler.handle for .bb/.bbclass/.bbappend/.inc, ConfHandler.handle
for .conf (baseconfig for layer.conf, bblayers.conf and bitbake.conf, as the cooker does) -- with statement
evaluation switched off: StatementGroup.eval only records the parsed statements. Nothing is
expanded, no file is included or inherited, no cooker runs.

Output is JSON Lines on stdout. The first line says which BitBake ran:
    {"bitbake": "2.8.1", "bb": "/path/to/bb"}
then one line per file, in the order given:
    {"path": P, "accepted": true}
    {"path": P, "accepted": false, "line": N or null, "message": M, "kind": K}
"line" is the line BitBake reports (ParseError.lineno, or the line named in a bb.fatal
message); null when BitBake names none. Where BitBake's parser itself crashes (kind
"crash": it does after a line that is a lone backslash), the file counts as rejected; a
traceback names no line, so "line" is null and "crash_line" says which line the parser
was reading. With --statements an accepted file also carries
"statements": the class name, line and regex groups of every statement BitBake made, with
(var, flag, op, value, exported) for assignments.

Usage:
    bb_parse.py [--statements] [--time N] [--stdin] PATH...
A PATH that is a folder stands for the BitBake files under it. --stdin reads more paths,
one per line. --time N parses everything N times and prints, instead of the results,
{"files": F, "bytes": B, "best_seconds": S}.
Use PYTHONPATH=<poky>/bitbake/lib to run a Poky's BitBake; else the installed `bb` runs.
"""

import argparse
import json
import logging
import os
import re
import sys
import time

# BitBake refuses to run without a UTF-8 locale and reads files in the locale's encoding.
if not sys.flags.utf8_mode and sys.getfilesystemencoding().lower() not in ("utf-8", "utf8"):
    os.execve(sys.executable, [sys.executable] + sys.argv, dict(os.environ, PYTHONUTF8="1"))

# The PyPI wheel lacks hashserv, which bb.siggen imports. The stub goes last on the path so
# that a real hashserv (Poky's bitbake/lib) wins.
sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "stubs"))

import bb  # noqa: E402
import bb.data  # noqa: E402
import bb.parse  # noqa: E402
from bb.parse import ast as bbast  # noqa: E402
from bb.parse.parse_py import BBHandler, ConfHandler  # noqa: E402

RECIPE_EXTS = (".bb", ".bbclass", ".bbappend", ".inc")
# cookerdata.parse_config_file (baseconfig=True) reads these; includes are plain .conf files.
BASECONFIG_NAMES = ("layer.conf", "bblayers.conf", "bitbake.conf")
OPERATORS = [("colon", ":="), ("lazyques", "??="), ("ques", "?="), ("append", "+="),
             ("prepend", "=+"), ("predot", "=."), ("postdot", ".=")]

# Statement evaluation is switched off: handle() parses, then "evaluates" by recording.
_recorded = []
bbast.StatementGroup.eval = lambda self, d: _recorded.append(self)


class _Collect(logging.Handler):
    """Keeps what BitBake logs, so that bb.fatal's message (and its line) can be reported."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)


_log = _Collect()
_bblogger = logging.getLogger("BitBake")
_bblogger.addHandler(_log)
_bblogger.propagate = False
_bblogger.setLevel(logging.WARNING)


def is_bitbake_file(path):
    return path.endswith(RECIPE_EXTS) or path.endswith(".conf")


def expand_paths(paths):
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    if is_bitbake_file(name):
                        yield os.path.join(root, name)
        else:
            yield path


def _reset_bbhandler():
    """BBHandler keeps its parse state in module globals; a failed file leaves it dirty."""
    for name, value in (("__infunc__", []), ("__inpython__", False), ("__body__", []),
                        ("__residue__", []), ("__classname__", "")):
        setattr(BBHandler, name, value)
    BBHandler.cached_statements.clear()


def parse_file(path):
    """Runs BitBake's handler for path; returns the recorded StatementGroup."""
    _reset_bbhandler()
    del _recorded[:]
    d = bb.data.init()
    path = os.path.abspath(path)
    name = os.path.basename(path)
    if path.endswith(RECIPE_EXTS):
        BBHandler.handle(path, d, True)
    elif path.endswith(".conf"):
        ConfHandler.handle(path, d, True, baseconfig=name in BASECONFIG_NAMES)
    else:
        raise bb.parse.ParseError("not a BitBake file", path)
    return _recorded[0] if _recorded else []


def statement_json(node):
    out = {"kind": type(node).__name__, "line": node.lineno}
    groupd = getattr(node, "groupd", None)
    if groupd is not None:  # an assignment (DataNode): the ConfHandler regex's groups
        op = next((text for group, text in OPERATORS if groupd.get(group) is not None), "=")
        out.update(var=groupd["var"], flag=groupd.get("flag"), op=op,
                   value=groupd["value"], exported=groupd.get("exp") is not None)
    return out


def fatal_line(message):
    m = re.search(r"\bline (\d+)", message)
    return int(m.group(1)) if m else None


def crash_line(exc):
    """The line BitBake was reading when it crashed: `lineno` in its innermost parser frame."""
    line, tb = None, exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_globals.get("__name__", "").startswith("bb.parse") and "lineno" in frame.f_locals:
            line = frame.f_locals["lineno"]
        tb = tb.tb_next
    return line


def check(path, with_statements):
    del _log.records[:]
    result = {"path": path}
    try:
        statements = parse_file(path)
    except bb.parse.ParseError as e:
        result.update(accepted=False, line=e.lineno or None, message=e.msg, kind="ParseError")
    except bb.BBHandledException:
        fatal = [r for r in _log.records if r.levelno >= logging.ERROR]
        message = fatal[-1].getMessage() if fatal else ""
        result.update(accepted=False, line=fatal_line(message), message=message, kind="fatal")
    except UnicodeDecodeError as e:
        result.update(accepted=False, line=None, message=str(e), kind="UnicodeDecodeError")
    except Exception as e:  # BitBake itself crashes on some input (IndexError on a lone `\`)
        result.update(accepted=False, line=None, message="%s: %s" % (type(e).__name__, e),
                      kind="crash", crash_line=crash_line(e))
    else:
        result["accepted"] = True
        if with_statements:
            result["statements"] = [statement_json(s) for s in statements]
    warnings = [r.getMessage() for r in _log.records if r.levelno == logging.WARNING]
    if warnings:
        result["warnings"] = warnings
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*")
    parser.add_argument("--statements", action="store_true",
                        help="also print the statements of accepted files")
    parser.add_argument("--stdin", action="store_true", help="read more paths from stdin")
    parser.add_argument("--time", type=int, metavar="N",
                        help="parse all files N times, print the best wall time")
    args = parser.parse_args()
    paths = list(args.paths)
    if args.stdin:
        paths += [line.rstrip("\n") for line in sys.stdin if line.strip()]
    files = list(expand_paths(paths))

    out = sys.stdout
    out.write(json.dumps({"bitbake": bb.__version__, "bb": os.path.dirname(bb.__file__)}) + "\n")
    if args.time:
        best = None
        for _ in range(args.time):
            start = time.perf_counter()
            for path in files:
                check(path, False)
            elapsed = time.perf_counter() - start
            best = elapsed if best is None else min(best, elapsed)
        size = sum(os.path.getsize(p) for p in files)
        out.write(json.dumps({"files": len(files), "bytes": size, "best_seconds": best}) + "\n")
        return
    for path in files:
        out.write(json.dumps(check(path, args.statements)) + "\n")


if __name__ == "__main__":
    main()
