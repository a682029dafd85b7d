#!/usr/bin/env python3
"""Prints the statements BitBake's own parser finds in BitBake files, one a line, in the
format of examples/dump_statements.rs, to diff the two parsers.

Usage: BITBAKE_LIB=/path/to/poky/bitbake/lib tests/bitbake_statements.py FILES...
Only parsing is run (BBHandler.get_statements, ConfHandler.handle with eval stubbed out).
"""
import logging, os, sys

sys.path.insert(0, os.environ.get("BITBAKE_LIB", "/work/poky/scarthgap/bitbake/lib"))
import bb, bb.parse  # noqa: E402
from bb.parse import ast  # noqa: E402
from bb.parse.parse_py import BBHandler, ConfHandler  # noqa: E402

logging.disable(logging.CRITICAL)
OPS = [("colon", ":="), ("lazyques", "??="), ("ques", "?="), ("append", "+="),
       ("prepend", "=+"), ("predot", "=."), ("postdot", ".=")]


def esc(s):
    return s.replace("\\", "\\\\").replace("\n", "\\n")


def show(n):
    t = type(n).__name__
    if t == "DataNode":
        g = n.groupd
        op = next((o for k, o in OPS if g.get(k)), "=")
        return "Data %d exp=%s var=%s flag=%s op=%s apo=%s value=%s" % (
            n.lineno, "true" if g["exp"] else "false", esc(g["var"]),
            esc(g["flag"]) if g["flag"] is not None else "-", op, g["apo"], esc(g["value"]))
    if t == "ExportNode":
        return "Export %d %s" % (n.lineno, esc(n.var))
    if t == "UnsetNode":
        return "Unset %d %s" % (n.lineno, esc(n.var))
    if t == "UnsetFlagNode":
        return "UnsetFlag %d %s %s" % (n.lineno, esc(n.var), esc(n.flag))
    if t == "IncludeNode":
        return "Include %d force=%s %s" % (n.lineno, "true" if n.force else "false", esc(n.what_file))
    if t == "InheritNode":
        return "Inherit %d %s" % (n.lineno, esc(n.classes))
    if t == "InheritDeferredNode":
        return "InheritDeferred %d %s" % (n.lineno, esc(n.inherit[0]))
    if t == "AddTaskNode":
        q = lambda v: "[" + ", ".join('"%s"' % esc(w) for w in (v or "").split()) + "]"
        return "AddTask %d %s before=%s after=%s" % (n.lineno, esc(n.func), q(n.before), q(n.after))
    if t == "DelTaskNode":
        return "DelTask %d %s" % (n.lineno, esc(n.tasks))
    if t == "BBHandlerNode":
        return "Handler %d [%s]" % (n.lineno, ", ".join('"%s"' % esc(h) for h in n.hs))
    if t == "ExportFuncsNode":
        return "ExportFuncs %d [%s]" % (n.lineno, ", ".join('"%s"' % esc(h) for h in n.n))
    if t == "PyLibNode":
        return "PyLib %d %s %s" % (n.lineno, esc(n.libdir), esc(n.namespace))
    if t == "MethodNode":
        py = n.python or n.func_name == "__anonymous"
        return "Method %s python=%s fakeroot=%s body=%s" % (
            n.func_name, "true" if py else "false", "true" if n.fakeroot else "false",
            esc("\n".join(n.body)))
    if t == "PythonMethodNode":
        return "PyMethod %s body=%s" % (n.function, esc("\n".join(n.body)))
    return "?? " + t


class Data:
    def getVar(self, *a, **k): return None
    def setVar(self, *a, **k): pass
    def expand(self, s): return s


for fn in sys.argv[1:]:
    print("FILE " + fn)
    out = []
    try:
        if fn.endswith(".conf"):
            ast.StatementGroup.eval = lambda self, d: out.extend(self)
            base = os.path.basename(fn) in ("layer.conf", "bblayers.conf", "bitbake.conf")
            try:
                ConfHandler.handle(os.path.abspath(fn), Data(), 0, baseconfig=base)
            except TypeError:  # BitBake before addpylib (kirkstone and older)
                ConfHandler.handle(os.path.abspath(fn), Data(), 0)
        else:
            BBHandler.cached_statements = {}
            BBHandler.__residue__ = []
            BBHandler.__body__ = []
            BBHandler.__infunc__ = []
            BBHandler.__inpython__ = False
            BBHandler.__classname__ = ""
            out.extend(BBHandler.get_statements(fn, os.path.abspath(fn), os.path.basename(fn)))
            if BBHandler.__infunc__:
                raise bb.parse.ParseError("never closed", fn, BBHandler.__infunc__[2])
    except bb.parse.ParseError as e:
        print("ERROR %s" % e.lineno)
        continue
    except BaseException as e:  # bb.fatal, IndexError...
        print("ERROR ?")
        print("#", type(e).__name__, e, file=sys.stderr)
        continue
    for n in out:
        print(show(n))
