#!/usr/bin/env python3
"""Differential oracle: feeds statements to real BitBake's data store and prints what it reads.

Input (stdin): a JSON list of cases. Each case is
    {"statements": [...], "reads": [name...], "flags": [[name, flag]...],
     "expand": [string...], "keys": bool}
and each statement one of
    {"kind": "assign", "exported": bool, "name": str, "flag": str|null, "op": str, "value": str}
        op is the operator text ("=", ":=", "??=", "?=", "+=", "=+", ".=", "=."); the
        statement is handed to bb.parse.ast.handleData with the same group dict that
        ConfHandler's __config_regexp__ produces, then evaluated, as BitBake's parser does;
    {"kind": "export", "name": str}              bb.parse.ast.ExportNode
    {"kind": "unset", "name": str, "flag": str|null}   UnsetNode / UnsetFlagNode
    {"kind": "read", "name": str}                getVar(name) between statements, reported
                                                 in order under "during"
    {"kind": "api", "call": str, "args": [...]}  a DataSmart method (setVar, appendVar...),
                                                 or "expandKeys": bb.data.expandKeys(d)

Output (stdout): {"version": bb.__version__, "bb": bb.__file__, "results": [...]} with,
per case,
    {"error_at": index of the statement that raised or null, "during": [...],
     "vars": {name: {"value": getVar(expand=True), "raw": getVar(expand=False),
                     "flags": getVarFlags(name) or {},
                     "flags_expanded": getVarFlags(name, EXPANDED_FLAGS) or {},
                     "history": [[op, flag, detail, line]...] from varhistory}},
     "flags": [[getVarFlag(expand=True), getVarFlag(expand=False)]...],
     "expand": [d.expand(s)...], "keys": sorted(d.keys()) or null}
A value that raised is reported as {"error": exception type name}. Non-string values (the
`export` flag that an `export` statement sets is the integer 1) are reported through str().
`__exportlist`, DataSmart's internal set of exported names, is left out of "keys".

BitBake is imported from PYTHONPATH (scarthgap's bitbake/lib when the test sets it) or from
the installed bitbake-setup wheel, which lacks the `hashserv` package that bb.siggen imports:
an empty stand-in is registered for it here.
"""
import json
import logging
import sys
import types

try:
    import hashserv  # noqa: F401
except ImportError:
    stub = types.ModuleType("hashserv")
    stub.client = types.ModuleType("hashserv.client")
    sys.modules["hashserv"] = stub
    sys.modules["hashserv.client"] = stub.client

import bb  # noqa: E402
import bb.data  # noqa: E402
import bb.data_smart  # noqa: E402
import bb.parse  # noqa: E402
import bb.parse.ast  # noqa: E402

logging.getLogger("BitBake").setLevel(logging.CRITICAL + 1)

OPS = {
    "=": None,
    ":=": "colon",
    "??=": "lazyques",
    "?=": "ques",
    "+=": "append",
    "=+": "prepend",
    "=.": "predot",
    ".=": "postdot",
}
FILENAME = "/oracle/case.conf"
# The flags that "flags_expanded" asks getVarFlags to expand.
EXPANDED_FLAGS = ["doc", "vardeps", "export"]


def groupd_for(stmt):
    """The group dict that ConfHandler's __config_regexp__ yields for this statement."""
    groupd = {key: None for key in OPS.values() if key}
    groupd["exp"] = "export " if stmt["exported"] else None
    groupd["var"] = stmt["name"]
    groupd["flag"] = stmt["flag"]
    groupd["apo"] = '"'
    groupd["value"] = stmt["value"]
    key = OPS[stmt["op"]]
    if key:
        groupd[key] = stmt["op"]
    return groupd


def run_statement(d, stmt, lineno, during):
    kind = stmt["kind"]
    if kind == "read":
        during.append(report(lambda: d.getVar(stmt["name"], True)))
    elif kind == "assign":
        statements = bb.parse.ast.StatementGroup()
        bb.parse.ast.handleData(statements, FILENAME, lineno, groupd_for(stmt))
        statements.eval(d)
    elif kind == "export":
        bb.parse.ast.ExportNode(FILENAME, lineno, stmt["name"]).eval(d)
    elif kind == "unset":
        if stmt.get("flag"):
            bb.parse.ast.UnsetFlagNode(FILENAME, lineno, stmt["name"], stmt["flag"]).eval(d)
        else:
            bb.parse.ast.UnsetNode(FILENAME, lineno, stmt["name"]).eval(d)
    elif kind == "api" and stmt["call"] == "expandKeys":
        bb.data.expandKeys(d)
    elif kind == "api":
        getattr(d, stmt["call"])(*stmt["args"])
    else:
        raise ValueError("unknown statement kind %r" % kind)


def report(fn):
    try:
        value = fn()
    except BaseException as exc:  # noqa: BLE001 - every failure is a value to compare
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        return {"error": type(exc).__name__}
    if value is None or isinstance(value, (str, dict)):
        return value
    return str(value)


def history(d, name):
    """The variable's history as [op, flag, detail, line] per event; line is null where
    BitBake inferred the place from its own Python stack (ExportNode, API calls)."""
    events = []
    for event in d.varhistory.variable(name):
        line = None if "func" in event else event.get("line")
        flag = event.get("flag")
        events.append([event.get("op"), flag, str(event.get("detail")), line])
    return events


def run_case(case):
    d = bb.data_smart.DataSmart()
    d.enableTracking()
    error_at = None
    during = []
    for index, stmt in enumerate(case.get("statements", [])):
        try:
            run_statement(d, stmt, index + 1, during)
        except Exception:  # noqa: BLE001
            error_at = index
            break
    out = {"error_at": error_at, "during": during, "vars": {}, "flags": [], "expand": []}
    for name in case.get("reads", []):
        flags = report(lambda: {k: str(v) for k, v in (d.getVarFlags(name) or {}).items()})
        flags_expanded = report(lambda: {
            k: str(v) for k, v in (d.getVarFlags(name, EXPANDED_FLAGS) or {}).items()
        })
        out["vars"][name] = {
            "flags_expanded": flags_expanded,
            "value": report(lambda: d.getVar(name, True)),
            "raw": report(lambda: d.getVar(name, False)),
            "flags": flags,
            "history": history(d, name),
        }
    for name, flag in case.get("flags", []):
        out["flags"].append([
            report(lambda: d.getVarFlag(name, flag, True)),
            report(lambda: d.getVarFlag(name, flag, False)),
        ])
    for text in case.get("expand", []):
        out["expand"].append(report(lambda: d.expand(text)))
    if case.get("keys"):
        try:
            out["keys"] = sorted(k for k in d.keys() if k != "__exportlist")
        except Exception as exc:  # noqa: BLE001
            out["keys"] = {"error": type(exc).__name__}
    else:
        out["keys"] = None
    return out


def main():
    cases = json.load(sys.stdin)
    results = [run_case(case) for case in cases]
    json.dump({"version": bb.__version__, "bb": bb.__file__, "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
