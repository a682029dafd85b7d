"""Oracle for tests/python_bridge.rs: real BitBake evaluates inline Python and
anonymous functions over a small variable set, in one batched call.

Input (JSON on stdin):
  {"bitbake_lib": path or null, "pylibs": [[libdir, namespace], ...],
   "vars": {name: value}, "flags": [[name, flag, value], ...],
   "methods": [[name, code], ...],
   "cases": [{"kind": "inline", "var": name, "value": text}
             | {"kind": "anon", "body": [lines], "file": f, "line": n, "read": [names]}
             | {"kind": "anon", "funcs": [{"body": [lines], "line": n}, ...], "file": f,
                "read": [names]}]}
An anon case's functions run in the order given, as __BBANONFUNCS lists them.
Each case gets a fresh bb.data_smart.DataSmart holding vars and flags, plus the
variables of its optional "set" object.
Output (JSON on stdout): one result per case, {"ok": value} | {"skip": reason} |
{"expansion": str(ExpansionError)} | {"error": exception class name}, each with "log":
the [level, text] messages BitBake's logger received (note and up); an anon case's
"ok" is {name or "name[flag]": str(value) or null} for the names in "read".
"""

import json
import sys
import types

LIST_VARS = {"__inherit_cache", "__BBANONFUNCS", "__BBTASKS"}


def main():
    req = json.load(sys.stdin)
    if req.get("bitbake_lib"):
        sys.path.insert(0, req["bitbake_lib"])
    try:
        import hashserv  # noqa: F401
    except ImportError:
        stub = types.ModuleType("hashserv")
        stub.__path__ = []
        stub.client = types.ModuleType("hashserv.client")
        sys.modules["hashserv"] = stub
        sys.modules["hashserv.client"] = stub.client
    import bb
    import bb.data
    import bb.data_smart
    import bb.methodpool
    import bb.parse
    import bb.parse.ast
    import bb.utils

    def fresh():
        d = bb.data_smart.DataSmart()
        for name, value in req["vars"].items():
            d.setVar(name, value.split() if name in LIST_VARS else value)
        for name, flag, value in req["flags"]:
            d.setVarFlag(name, flag, value)
        return d

    for libdir, namespace in req.get("pylibs", []):
        bb.parse.ast.PyLibNode("oracle", 1, libdir, namespace).eval(fresh())
    for name, code in req["methods"]:
        bb.methodpool.insert_method(name, code, "oracle", 0)

    import logging

    logged = []

    class Collect(logging.Handler):
        def emit(self, record):
            n = record.levelno
            level = "fatal" if n >= 50 else "error" if n >= 40 else "warning" if n >= 30 else "note"
            logged.append([level, record.getMessage()])

    logging.getLogger("BitBake").addHandler(Collect(logging.INFO))

    def outcome(fn):
        logged.clear()
        result = outcome_of(fn)
        result["log"] = list(logged)
        return result

    def outcome_of(fn):
        try:
            return {"ok": fn()}
        except bb.parse.SkipRecipe as e:
            return {"skip": str(e)}
        except bb.data_smart.ExpansionError as e:
            return {"expansion": str(e)}
        except bb.BBHandledException as e:
            inner = e.args[0] if e.args and isinstance(e.args[0], BaseException) else e
            return {"error": type(inner).__name__}
        except (Exception, SystemExit) as e:
            # bb.msg.fatal() exits: bitzel sees the SystemExit as an error of the recipe.
            return {"error": type(e).__name__}

    results = []
    for case in req["cases"]:
        d = fresh()
        for name, value in case.get("set", {}).items():
            d.setVar(name, value)
        if case["kind"] == "inline":
            d.setVar(case["var"], case["value"])

            def run(d=d, case=case):
                v = d.getVar(case["var"])
                return None if v is None else str(v)

            results.append(outcome(run))
        else:
            def run(d=d, case=case):
                # BitBake's own MethodNode defines each function and appends it to
                # __BBANONFUNCS (its body ends with the '' the parser adds for '}').
                for f in case.get("funcs") or [{"body": case["body"], "line": case["line"]}]:
                    body = f["body"] + [""]
                    bb.parse.ast.MethodNode(case["file"], f["line"], "__anonymous", body, True, False).eval(d)
                bb.parse.ast.runAnonFuncs(d)
                out = {}
                for r in case["read"]:
                    if "[" in r:
                        var, flag = r[:-1].split("[")
                        v = d.getVarFlag(var, flag)
                    else:
                        v = d.getVar(r)
                    out[r] = None if v is None else (" ".join(v) if isinstance(v, list) else str(v))
                return out

            results.append(outcome(run))
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
