# The Python half of bitzel's Python bridge (src/eval/python.rs embeds this file).
#
# It runs inside the CPython interpreter that bitzel embeds, next to BitBake's own `bb`
# package and the layers' lib/ modules. It holds only what BitBake's DataSmart offers to
# the code that Poky's inline Python and anonymous functions run: a `d` object whose
# methods call back into bitzel's native data store (a `Store` handle made in Rust), and
# the two entry points Rust calls: inline expansion (data_smart.VariableParse.python_sub)
# and anonymous functions (bb.parse.ast.runAnonFuncs). Everything else is BitBake's own
# code, imported, not copied.

import builtins
import marshal
import logging
import sys
import threading
import types
import weakref


# bb.codeparser imports bb.pysh.pyshyacc, whose import builds the shell grammar's
# parse tables with ply (its `import pyshtables` never finds the tables it writes):
# 80-150 ms of every start, before the parser processes fork, for a module that only
# the shell parser uses, which no recipe's parse calls (emission does). The module is
# loaded lazily, with importlib's LazyLoader: it runs on its first use, as it would
# have at import. (Before anything imports bb: hashserv, just below, does.)
import importlib.abc  # noqa: E402
import importlib.util  # noqa: E402


class _LazyShellGrammar(importlib.abc.MetaPathFinder):
    NAME = "bb.pysh.pyshyacc"

    def find_spec(self, name, path, target=None):
        if name != self.NAME:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = importlib.util.LazyLoader(spec.loader)
                return spec
        return None


sys.meta_path.insert(0, _LazyShellGrammar())


def _stub_hashserv():
    # The PyPI wheel of BitBake lacks `hashserv`, which bb.siggen imports; nothing that
    # evaluates metadata uses it, so an empty module stands in when it is missing.
    try:
        import hashserv  # noqa: F401
    except ImportError:
        mod = types.ModuleType("hashserv")
        mod.__path__ = []
        client = types.ModuleType("hashserv.client")
        mod.client = client
        sys.modules["hashserv"] = mod
        sys.modules["hashserv.client"] = client


_stub_hashserv()

# The write guard. bitzel writes nothing outside its output directory, but the
# metadata's Python may: base.bbclass's ConfigParsed handler makes TMPDIR/hosttools and
# a symlink per host tool in it, and any class may mkdirhier a folder or write a file
# while parsing. So, before BitBake is imported, the os module's file-system writes
# (mkdir, makedirs, symlink, link, unlink, remove, rmdir, rename, replace, chmod, chown,
# utime, truncate, mknod, mkfifo), os.open and open()/io.open for writing, and
# sqlite3.connect are wrapped: a write to a path outside the roots Rust allows
# (allow_writes_under; none by default) is not made, the call returns as if it had
# succeeded (a file opened for writing is os.devnull, a database is in memory), and
# it is recorded for take_withheld_writes. What the code reads back afterwards is what
# is on disk, so the values it computes are those of BitBake on the same host (the
# handlers' writes only make tools and folders that later tasks use). Commands run
# through subprocess are not guarded.
import os  # noqa: E402
import io  # noqa: E402

_write_roots = []
_withheld = {}


def _write_allowed(path):
    if isinstance(path, int):
        return True  # a file descriptor: opened through the guard
    try:
        full = os.path.abspath(os.fsdecode(path))
    except (TypeError, ValueError):
        return False
    return any(full == root or full.startswith(root + os.sep) for root in _write_roots)


def _withhold(operation, path):
    try:
        path = os.fsdecode(path)
    except (TypeError, ValueError):
        path = repr(path)
    buf = _withheld.setdefault(threading.get_ident(), [])
    if len(buf) < 10000:
        buf.append((operation, path))


# Which argument of each guarded os function is the path it writes.
_GUARDED_OS = {
    "mkdir": (0,), "makedirs": (0,), "symlink": (1,), "link": (1,), "unlink": (0,),
    "remove": (0,), "rmdir": (0,), "rename": (0, 1), "replace": (0, 1), "chmod": (0,),
    "lchmod": (0,), "chown": (0,), "lchown": (0,), "utime": (0,), "truncate": (0,),
    "mknod": (0,), "mkfifo": (0,),
}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_ARG_NAMES = {"open": "file", "os.open": "path", "sqlite3.connect": "database"}


def _decide(name, args, kwargs):
    # GuardedCall (python.rs) asks before each guarded call: None makes it, ("skip",
    # value) returns value instead, ("call", args, kwargs) makes it with these.
    if name == "open":
        file = args[0] if args else (kwargs or {}).get("file")
        mode = args[1] if len(args) > 1 else (kwargs or {}).get("mode", "r")
        if isinstance(mode, str) and any(c in mode for c in "wax+") and not _write_allowed(file):
            _withhold("open", file)
            kw = dict(kwargs or {})
            kw.pop("file", None)
            kw.pop("mode", None)
            return ("call", (os.devnull, mode.replace("x", "w")) + tuple(args[2:]), kw)
        return None
    if name == "os.open":
        path = args[0] if args else (kwargs or {}).get("path")
        flags = args[1] if len(args) > 1 else (kwargs or {}).get("flags", 0)
        if flags & _WRITE_FLAGS and not _write_allowed(path):
            _withhold("open", path)
            return ("call", (os.devnull, os.O_RDWR), None)
        return None
    if name == "sqlite3.connect":
        database = args[0] if args else (kwargs or {}).get("database")
        if database != ":memory:" and not _write_allowed(database):
            _withhold("sqlite3.connect", database)
            return ("call", (":memory:",) + tuple(args[1:]), kwargs)
        return None
    for i in _GUARDED_OS[name]:
        if i < len(args) and not _write_allowed(args[i]):
            _withhold(name, args[i])
            return ("skip", None)
    return None


def install_write_guard():
    """Wraps the write functions (see above); called once, when the bridge loads."""
    guarded = globals()["GuardedCall"]  # added by python.rs
    for name in _GUARDED_OS:
        real = getattr(os, name, None)
        if real is not None and not isinstance(real, guarded):
            setattr(os, name, guarded(name, real, _decide))
    if not isinstance(os.open, guarded):
        os.open = guarded("os.open", os.open, _decide)
    if not isinstance(io.open, guarded):
        builtins.open = io.open = guarded("open", io.open, _decide)
    try:
        import sqlite3
        if not isinstance(sqlite3.connect, guarded):
            sqlite3.connect = guarded("sqlite3.connect", sqlite3.connect, _decide)
    except ImportError:
        pass


def allow_writes_under(path):
    """Lets the guard pass writes under `path` (an output directory)."""
    root = os.path.abspath(path)
    if root not in _write_roots:
        _write_roots.append(root)


def take_withheld_writes():
    """The writes the guard withheld on this thread since the last call."""
    return _withheld.pop(threading.get_ident(), [])


import bb  # noqa: E402
import bb.data  # noqa: E402
import bb.data_smart  # noqa: E402
import bb.methodpool  # noqa: E402
import bb.parse  # noqa: E402
import bb.parse.ast  # noqa: E402
import bb.utils  # noqa: E402


class _LogCollector(logging.Handler):
    # BitBake's logger has only a NullHandler outside a cooker: what bb.note, bb.warn,
    # bb.error and bb.fatal (and better_exec's tracebacks) log would be lost. Records
    # are kept per thread until Rust takes them (PythonBridge::take_messages).
    def emit(self, record):
        buf = _logs.setdefault(threading.get_ident(), [])
        try:
            text = record.getMessage()
        except Exception as e:  # a malformed format string in the metadata's code
            text = "%s (%s)" % (record.msg, e)
        buf.append((record.levelno, text))


def take_messages():
    return _logs.pop(threading.get_ident(), [])


# Per-thread state is keyed by the OS thread, not kept in threading.local(): a Rust
# thread's Python thread state (and its thread-locals) can be made anew between calls
# (see keep_thread_state in python.rs).
_logs = {}
_thread_globals = {}
_thread_defs = {}  # thread -> {name: function} of the `def`s made on it (insert_method)
_collector = _LogCollector(logging.INFO)
logging.getLogger("BitBake").addHandler(_collector)

# Variables that BitBake keeps as Python lists in its data store, which bitzel's store
# keeps as whitespace-separated words: reads split them, writes join them.
LIST_VARS = frozenset(["__inherit_cache", "__BBANONFUNCS", "__BBTASKS", "__BBHANDLERS"])
# Likewise the flags that bb.build.addtask/deltask keep as lists (a task's [deps]).
LIST_FLAGS = frozenset(["deps"])


def _to_store(var, value, none_ok=False, is_list=False):
    if isinstance(value, str) or (value is None and none_ok):
        return value
    if is_list and isinstance(value, (list, tuple)):
        return " ".join(value)
    if isinstance(value, (bool, int)):
        # BitBake would keep the object; bitzel's store holds text.
        return str(value)
    return _text_of(var, value)


def _text_of(var, value):
    # Another object (bb.build.add_tasks' _task_deps dict, oe.classextend's
    # ClassExtender...): the store holds its str(), which is what `bitbake -e` prints
    # (DataProxy.setVar also gives the store the object itself).
    # Every recipe stores an equal object in some variables (create-spdx's
    # SPDX_LICENSE_DATA, 180 kB of text), so the text made last time is found again:
    # a value of plain dicts, lists and leaves is kept as a private copy and compared
    # natively (same_text: order, exact types, leaves mostly the same objects: ~0.05
    # ms where str() takes 1.3 ms); another value by its marshal form
    # (order-preserving, typed, 7 times cheaper than str()).
    seen = _plain_texts.get(var)
    if seen is not None:
        for kept, text in seen:
            if same_text(kept, value):
                return text
    kept = plain_copy(value)
    if kept is not None:
        text = str(value)
        if seen is None or len(seen) >= 8:
            seen = _plain_texts[var] = []
        seen.append((kept, text))
        return text
    try:
        key = marshal.dumps(value)
    except ValueError:
        key = None
    texts = _texts.get(var)
    text = texts.get(key) if texts is not None and key is not None else None
    if text is None:
        text = str(value)
        if key is not None:
            if texts is None or len(texts) >= 8:
                texts = _texts[var] = {}
            texts[key] = text
    return text


# Writes refused while expanding that are dropped instead of failing (see setVar).
_DROPPED_WHILE_EXPANDING = frozenset(["__BBAUTOREV_SEEN", "BB_DONT_CACHE"])

# The text of objects stored in variables, by variable: (private copy, text) of plain
# values, and by marshal form for the others.
_plain_texts = {}
_texts = {}

# Python objects stored in variables. BitBake's DataSmart keeps a value that is not
# text as the object itself, and createCopy copies the reference: the object belongs to
# the store and is shared by its copies. bitzel's store holds the object's text and,
# beside it, the object (Store.set_var_object, DataStore::set_var_object), so that a
# read of the variable through any store that has it gives the object back. These are
# the names that ever got an object: only their reads ask the store for one.
_object_vars = set()


class _StoredObject:
    """What a store keeps for an object stored in a variable: the object, and the
    handles (_Rebound) of the `d`s it holds."""

    __slots__ = ("value", "rebound")

    def __init__(self, value, rebound):
        self.value = value
        self.rebound = rebound


# The Store methods that change the store (the others read it).
_STORE_WRITES = frozenset([
    "set_var", "set_var_flag", "append_var", "prepend_var", "append_var_flag",
    "prepend_var_flag", "del_var", "del_var_flag", "rename_var", "set_var_object",
])


class _Rebound:
    """The store handle of a `d` held by an object stored in a variable (e.g.
    oe.classextend's ClassExtender keeps `self.d`, and ${@oe.classextend.get_depends(...)}
    calls it whenever DEPENDS is expanded, long after the anonymous function that made
    it returned). BitBake's object holds the DataSmart it was made with, the store the
    variable is in; bitzel lends a store to Python for one call only, so this handle
    acts on the store that reads the object: the innermost call still running on this
    thread that read it (an expansion of the variant's DEPENDS reads EXTENDERCLASS from
    the variant's store); else the call that made it, while that runs; else a copy
    (createCopy) that read it. A write while that store is lent only for reading (an
    expansion: classextend sets EXTENDPKGV, reads, and restores it) goes, with the
    reads after it, to a copy of that store made for the rest of that call."""

    __slots__ = ("own", "readers", "copies", "_version", "_last")

    def __init__(self, own):
        self.own = own
        self.readers = {}  # thread -> weak references to the handles that read the object
        self.copies = {}  # thread -> [(weak reference to a shared handle, its copy)]
        # The last exclusive handle _handle chose, (thread, handle, _version): still the
        # choice while it is exclusive and no handle read the object since (a handle
        # only ever expires, so none passed over can become the choice). ClassExtender
        # calls its `d` 120 times an anonymous function.
        self._version = 0
        self._last = None

    def read_by(self, handle):
        if isinstance(handle, _Rebound):
            handle = handle._handle(False)
        if handle.kind() == "expired":
            return
        # Per thread: a handle is usable only on the thread that it was lent on.
        ident = threading.get_ident()
        kept = [r for r in self.readers.get(ident, ())
                if (h := r()) is not None and h is not handle and h.kind() != "expired"]
        kept.append(weakref.ref(handle))
        self.readers[ident] = kept
        self._version += 1

    def _handle(self, write):
        ident = threading.get_ident()
        last = self._last
        if (last is not None and last[0] == ident and last[2] == self._version
                and last[1].kind() == "exclusive"):
            return last[1]
        found = self._choose(ident, write)
        if found.kind() == "exclusive":
            self._last = (ident, found, self._version)
        return found

    def _choose(self, ident, write):
        found = owned = kind = None
        for ref in reversed(self.readers.get(ident, ())):
            h = ref()
            if h is None:
                continue
            kind = h.kind()
            if kind == "shared" or kind == "exclusive":
                found = h
                break
            if kind == "owned" and owned is None:
                owned = h
        if found is None:
            kind = self.own.kind()
            if kind != "expired":
                found = self.own
            elif owned is not None:
                found, kind = owned, "owned"
            else:
                return self.own  # raises bitzel's "used after its evaluation ended"
        if kind != "shared":
            return found
        copies = self.copies.setdefault(ident, [])
        for ref, copy in copies:
            if ref() is found:
                return copy
        if not write:
            return found
        copy = found.create_copy()

        def forget(ref, copies=copies):
            copies[:] = [c for c in copies if c[0] is not ref]

        copies.append((weakref.ref(found, forget), copy))
        return copy

    def __getattr__(self, name):
        return getattr(self._handle(name in _STORE_WRITES), name)


def _rebound_method(name):
    # A method of its own for each method of the store that DataProxy calls: reached
    # without the failed lookup, and its AttributeError, that __getattr__ comes after
    # (ClassExtender's `d` makes 227,000 calls a parse).
    write = name in _STORE_WRITES

    def call(self, *args, **kwargs):
        return getattr(self._handle(write), name)(*args, **kwargs)

    call.__name__ = name
    return call


for _name in ("get_var", "get_var_flag", "get_var_flags", "has_overrides", "expand", "keys",
              "names_with_flag", "var_object", "create_copy", "set_var", "set_var_flag",
              "append_var", "prepend_var", "append_var_flag", "prepend_var_flag", "del_var",
              "del_var_flag", "rename_var", "set_var_object"):
    setattr(_Rebound, _name, _rebound_method(_name))


def _get_var_slow(store, var, expand):
    """DataProxy._get_var for the store's native proxy_get_var, for the variables it
    treats apart."""
    return DataProxy(store)._get_var(var, expand)


def _held_proxies(value):
    # The `d`s an object holds in its attributes (not searched deeper).
    attrs = getattr(value, "__dict__", None)
    if not isinstance(attrs, dict):
        return []
    return [v for v in attrs.values() if isinstance(v, DataProxy)]


class DataProxy:
    """The `d` that Python code sees: DataSmart's interface over bitzel's store.

    getVar and getVarFlag (1.4 million calls in a Poky parse) are the store's native
    proxy_get_var and proxy_get_var_flag, bound per proxy: the same arguments and
    results as _get_var and _get_var_flag below, without a Python frame; proxy_get_var
    hands the variables these methods treat apart (BB_ORIGENV, LIST_VARS, objects) to
    _get_var. A proxy whose store becomes a _Rebound (see _set_object) uses the Python
    methods."""

    __slots__ = ("_s", "getVar", "getVarFlag")

    def __init__(self, store):
        self._s = store
        self.getVar = store.proxy_get_var
        self.getVarFlag = store.proxy_get_var_flag

    def _rebind(self, store):
        # A store that is not a native handle has no proxy_* methods.
        self._s = store
        self.getVar = self._get_var
        self.getVarFlag = self._get_var_flag

    # reading
    def _get_var(self, var, expand=True, noweakdefault=False, parsing=False):
        value = self._s.get_var(var, bool(expand))
        if value is None and var == "BB_ORIGENV":
            return _origenv[0]
        if value is not None and var in LIST_VARS:
            return value.split()
        if value is not None and var in _object_vars:
            stored = self._s.var_object(var, value)
            if stored is not None:
                for rebound in stored.rebound:
                    rebound.read_by(self._s)
                return stored.value
        return value

    def _get_var_flag(self, var, flag, expand=True, noweakdefault=False, parsing=False, retparser=False):
        if retparser:
            raise NotImplementedError("bitzel: getVarFlag(retparser=True) is not supported")
        value = self._s.get_var_flag(var, flag, bool(expand))
        if value is not None and flag in LIST_FLAGS:
            return value.split()
        return value

    def getVarFlags(self, var, expand=False, internalflags=False):
        flags = {}
        for name, value in self._s.get_var_flags(var, bool(internalflags)):
            if expand and name in expand:
                value = self._s.expand(value, var + "[" + name + "]")
            flags[name] = value.split() if name in LIST_FLAGS else value
        return flags or None

    def hasOverrides(self, var):
        return self._s.has_overrides(var)

    def expand(self, s, varname=None):
        if not isinstance(s, str):
            return s
        return self._s.expand(s, varname)

    def keys(self):
        return iter(self._s.keys())

    def __iter__(self):
        return iter(self._s.keys())

    def __contains__(self, var):
        return self._s.get_var(var, False) is not None

    def getVarFlagsNames(self, var):
        return [name for name, _ in self._s.get_var_flags(var, False)]

    # writing
    def setVar(self, var, value, **loginfo):
        if value is None:
            # BitBake keeps None as the value, which reads like an unset variable; the
            # native store holds text, so the variable is set (dropping its pending
            # operations, as setVar does) and then deleted.
            self._s.set_var(var, "")
            self._s.del_var(var)
            return
        try:
            if isinstance(value, (str, bool, int)) or (
                    var in LIST_VARS and isinstance(value, (list, tuple))):
                self._s.set_var(var, _to_store(var, value, True, var in LIST_VARS))
            else:
                self._set_object(var, value)
        except RuntimeError as e:
            # Marks that Python code leaves in the store while a variable is being
            # expanded: a cache (oe.reproducible's __CACHED_SOURCE_DATE_EPOCH), or
            # bb.fetch2.get_autorev's "AUTOREV was used" (__BBAUTOREV_SEEN,
            # BB_DONT_CACHE). BitBake lets the write happen; bitzel's store is
            # read-only then. Dropping a cache only makes the code compute the value
            # again; the AUTOREV marks matter to BitBake's cache and to a check of
            # finalize that bitzel does not make.
            if (var.startswith("__CACHED_") or var in _DROPPED_WHILE_EXPANDING) and "read-only" in str(e):
                return
            raise

    def _set_object(self, var, value):
        # BitBake keeps the object as the value: the store gets its text and the object
        # (see _object_vars), and each `d` the object holds acts, from now on, on the
        # store that reads it (see _Rebound).
        rebound = []
        for proxy in _held_proxies(value):
            if not isinstance(proxy._s, _Rebound):
                proxy._rebind(_Rebound(proxy._s))
            if proxy._s not in rebound:
                rebound.append(proxy._s)
        _object_vars.add(var)
        stored = _StoredObject(value, tuple(rebound))
        if type(value) in (dict, list):
            # Its text is made when the variable is first read as text (the str() of a
            # dict or a list is its items' repr(), made without the store being read
            # then): create-spdx's licence table is not read so while recipes are parsed.
            self._s.set_var_object(var, None, stored, lambda: _text_of(var, value))
        else:
            self._s.set_var_object(var, _text_of(var, value), stored, None)

    def setVarFlag(self, var, flag, value, **loginfo):
        if value is None:
            # BitBake keeps a None flag, which reads like an absent one; the native
            # store holds text, so the flag is removed.
            self._s.del_var_flag(var, flag)
            return
        self._s.set_var_flag(var, flag, _to_store(var, value, True, flag in LIST_FLAGS))

    def setVarFlags(self, var, flags, **loginfo):
        for flag, value in flags.items():
            self.setVarFlag(var, flag, value)

    def appendVar(self, var, value, **loginfo):
        self._s.append_var(var, _to_store(var, value))

    def prependVar(self, var, value, **loginfo):
        self._s.prepend_var(var, _to_store(var, value))

    def appendVarFlag(self, var, flag, value, **loginfo):
        self._s.append_var_flag(var, flag, _to_store(var, value))

    def prependVarFlag(self, var, flag, value, **loginfo):
        self._s.prepend_var_flag(var, flag, _to_store(var, value))

    def delVar(self, var, **loginfo):
        self._s.del_var(var)

    def delVarFlag(self, var, flag, **loginfo):
        self._s.del_var_flag(var, flag)

    def delVarFlags(self, var, **loginfo):
        for name, _ in self._s.get_var_flags(var, False):
            self._s.del_var_flag(var, name)

    def renameVar(self, key, newkey, **loginfo):
        self._s.rename_var(key, newkey)

    def createCopy(self):
        return DataProxy(self._s.create_copy())

    # DataSmart's dict-like spellings that old code still uses
    def getVarFlagExpanded(self, var, flag):
        return self.getVarFlag(var, flag, True)


_BUILTIN_NAMES = frozenset([n for n in dir(builtins) if not n.startswith("_")] + ["oe"])


class InlineLocals(dict):
    """The locals of an inline expression: bb.data_smart.DataContext's rule that an
    unknown name that is neither a builtin nor a global of BitBake's context reads the
    (expanded) variable of that name."""

    __slots__ = ("metadata",)

    def __init__(self, metadata):
        dict.__init__(self, d=metadata)
        self.metadata = metadata

    def __missing__(self, key):
        if key in _BUILTIN_NAMES or key in bb.utils._context:
            raise KeyError(key)
        value = self.metadata.getVar(key)
        if value is None:
            raise KeyError(key)
        return value


_code_cache = {}
# Bumped whenever bitzel changes BitBake's context, so cached copies of it are renewed.
_generation = [0]


def _globals_for(d):
    # bb.utils.better_eval gives the expression a copy of BitBake's context with `d`
    # added (comprehensions look `d` up there). A copy per expression costs tens of
    # microseconds once classes have filled the context, so each thread keeps one copy
    # and refreshes it when the context grew; `d` is set around each evaluation and
    # restored afterwards, so nested evaluations on one thread see their own.
    ctx = bb.utils._context
    stamp = (len(ctx), _generation[0], id(ctx))
    ident = threading.get_ident()
    cached = _thread_globals.get(ident)
    if cached is None or cached[0] != stamp:
        glob = dict(ctx)
        glob.update(_thread_defs.get(ident, ()))
        cached = _thread_globals[ident] = (stamp, glob)
    return cached[1]


def eval_inline(store, code, varname):
    """VariableParse.python_sub without its bookkeeping: compile `code` the way BitBake
    does (same file name, so messages match), evaluate it, return str() of the value."""
    key = (code, varname)
    codeobj = _code_cache.get(key)
    if codeobj is None:
        name = "Var <%s>" % varname if varname else "<expansion>"
        codeobj = compile(code.strip(), name, "eval")
        if len(_code_cache) >= 50000:  # expanded code differs per recipe: stay bounded
            _code_cache.clear()
        _code_cache[key] = codeobj
    d = DataProxy(store)
    glob = _globals_for(d)
    had = "d" in glob
    old = glob.get("d")
    glob["d"] = d
    try:
        return str(eval(codeobj, glob, InlineLocals(d)))
    finally:
        if had:
            glob["d"] = old
        else:
            glob.pop("d", None)


def run_anonymous(store):
    """bb.parse.ast.runAnonFuncs: call every function named in __BBANONFUNCS with `d`."""
    bb.parse.ast.runAnonFuncs(DataProxy(store))


def fire_recipe_event(store, event, fn, variant):
    """bb.parse.ast.finalize's events: register the handlers in __BBHANDLERS with
    their [eventmask] as finalize does, fire `event` (a name of bb.event) through
    bb.event's class handlers, and restore bb.event's handlers afterwards."""
    d = DataProxy(store)
    if event == "RecipeTaskPreProcess":
        ev = bb.event.RecipeTaskPreProcess(fn, list(d.getVar("__BBTASKS", False) or []))
    else:
        ev = getattr(bb.event, event)(fn)
    _fire_through_handlers(ev, d)


def _fire_through_handlers(ev, d):
    """Registers the __BBHANDLERS of `d` whose [eventmask] takes `ev` (as finalize and
    parseConfigurationFiles register them; the others would not be called, and
    compiling them costs), fires `ev` through bb.event's class handlers, and restores
    bb.event's handler table."""
    eid = str(ev.__class__)[8:-2]
    saved = bb.event.get_handlers().copy()
    try:
        for var in d.getVar("__BBHANDLERS", False) or []:
            handlerfn = d.getVarFlag(var, "filename", False)
            if not handlerfn:
                bb.fatal("Undefined event handler function '%s'" % var)
            mask = (d.getVarFlag(var, "eventmask") or "").split()
            if mask and eid not in mask:
                continue
            handlerln = int(d.getVarFlag(var, "lineno", False))
            bb.event.register(var, d.getVar(var, False), mask,
                              handlerfn, handlerln, data=d)
        bb.event.fire_class_handlers(ev, d)
    finally:
        bb.event.set_handlers(saved)


def fire_config_event(store, event):
    """cookerdata's parseBaseConfiguration: `bb.event.fire(bb.event.<event>(), data)`
    after the configuration files are read (ConfigParsed). The handlers of
    __BBHANDLERS are registered as parseConfigurationFiles registers them (only those
    whose [eventmask] takes the event: the others would not be called), the event goes
    through bb.event's class handlers, and bb.event's handler table is restored."""
    d = DataProxy(store)
    ev = getattr(bb.event, event)()
    _fire_through_handlers(ev, d)


# BB_ORIGENV: cookerdata keeps the whole environment BitBake was started in as a
# DataSmart of its own (base.bbclass's setup_hosttools_dir reads PATH from it). bitzel's
# store holds text, so the object lives here and DataProxy.getVar hands it out.
_origenv = [None]


def set_origenv(pairs):
    """CookerDataBuilder.__init__'s `savedenv`: a DataSmart holding the environment."""
    env = bb.data.init()
    for name, value in pairs:
        env.setVar(name, value)
    _origenv[0] = env


def freeze_objects():
    """gc.freeze(): what is alive now (bb, oe, the classes' functions, the
    configuration's objects) moves to the collector's permanent generation, so that the
    collections made while recipes are parsed do not traverse it again and again."""
    import gc
    gc.collect()
    gc.freeze()


# json.loads of a text is a pure function of it, and the metadata loads the same file
# for every recipe (create-spdx's anonymous function: json.load of the SPDX licence
# list, 200 kB: reading, decoding and parsing it took 2.1 ms a recipe variant). A large
# text's value is kept, never handed out, and each later call gets a fresh copy of it
# (fresh_json_copy, native: every dict and list new, the immutable leaves shared; 0.1
# ms where parsing takes 1.7 and unpickling 0.55): every call still returns a new
# object, equal to what json.loads makes. json.load of a file opened for reading is answered
# the same way by the file's identity (device, inode, size, modification time, the
# encoding it is read with), as BitBake's own caches trust a file's mtime; the file is
# left at its end, as reading it would. Only plain calls (no hooks, no decoder class)
# are answered from the memo.
import json  # noqa: E402

_json_loads = json.loads
_json_load = json.load
_json_memo = {}
_json_file_memo = {}
_JSON_MEMO_MIN = 4096


def _plain(cls, object_hook, parse_float, parse_int, parse_constant, object_pairs_hook, kw):
    return (cls is None and object_hook is None and parse_float is None and parse_int is None
            and parse_constant is None and object_pairs_hook is None and not kw)


def _remember(memo, key, value):
    # The memo keeps a copy of its own: `value` goes to the caller, who may change it.
    try:
        kept = fresh_json_copy(value)
    except RecursionError:
        return
    if len(memo) >= 64:
        memo.clear()
    memo[key] = kept


def _loads(s, *, cls=None, object_hook=None, parse_float=None, parse_int=None,
           parse_constant=None, object_pairs_hook=None, **kw):
    if (type(s) is not str or len(s) < _JSON_MEMO_MIN
            or not _plain(cls, object_hook, parse_float, parse_int, parse_constant,
                          object_pairs_hook, kw)):
        return _json_loads(s, cls=cls, object_hook=object_hook, parse_float=parse_float,
                           parse_int=parse_int, parse_constant=parse_constant,
                           object_pairs_hook=object_pairs_hook, **kw)
    kept = _json_memo.get(s)
    if kept is not None:
        return fresh_json_copy(kept)
    value = _json_loads(s)
    _remember(_json_memo, s, value)
    return value


def _file_identity(fp):
    # A text file opened for reading only, read from its start: its identity, else None.
    if type(fp) is not io.TextIOWrapper or fp.mode != "r":
        return None
    try:
        if fp.tell() != 0:
            return None
        st = os.fstat(fp.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        return None
    if st.st_size < _JSON_MEMO_MIN:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, fp.encoding, fp.errors)


def _load(fp, *, cls=None, object_hook=None, parse_float=None, parse_int=None,
          parse_constant=None, object_pairs_hook=None, **kw):
    key = None
    if _plain(cls, object_hook, parse_float, parse_int, parse_constant, object_pairs_hook, kw):
        key = _file_identity(fp)
    if key is None:
        return _json_load(fp, cls=cls, object_hook=object_hook, parse_float=parse_float,
                          parse_int=parse_int, parse_constant=parse_constant,
                          object_pairs_hook=object_pairs_hook, **kw)
    kept = _json_file_memo.get(key)
    if kept is not None:
        fp.seek(0, io.SEEK_END)
        return fresh_json_copy(kept)
    value = _json_loads(fp.read())
    _remember(_json_file_memo, key, value)
    return value


json.loads = _loads
json.load = _load


# bb.fetch2.URI(text) is a pure function of the text, and base.bbclass's anonymous
# function makes one of every SRC_URI entry of every recipe variant (9,200 a parse,
# each two urllib.parse.urlparse calls and regular expressions). The state a text
# gives is kept (its attributes, the dicts as copies of their own) and a later URI of
# the same text gets a copy of it: new params and query dicts, the same immutable
# leaves. URI.__init__ also adds a scheme urllib does not know to
# urllib.parse.uses_params on every call; a URI from the kept state adds it if it is
# not there, which leaves the same schemes in that list. Only URI itself is answered
# from the memo (a subclass's setters run as they would); a text that raises is not
# kept, so it raises again.
import urllib.parse  # noqa: E402
import bb.fetch2  # noqa: E402

_uri_class = bb.fetch2.URI
_uri_init = _uri_class.__init__
_uri_memo = {}


def _copy_uri_state(state):
    kept = dict(state)
    for name in ("params", "query"):
        value = kept.get(name)
        if isinstance(value, dict):
            kept[name] = value.copy()
    return kept


def _memoised_uri_init(self, uri=None):
    if type(self) is not _uri_class or type(uri) is not str or not uri:
        return _uri_init(self, uri)
    state = _uri_memo.get(uri)
    if state is None:
        _uri_init(self, uri)
        if len(_uri_memo) >= 4096:
            _uri_memo.clear()
        _uri_memo[uri] = _copy_uri_state(self.__dict__)
        return
    self.__dict__.update(_copy_uri_state(state))
    scheme = state.get("scheme")
    if scheme not in urllib.parse.uses_netloc and scheme not in urllib.parse.uses_params:
        urllib.parse.uses_params.append(scheme)


_memoised_uri_init.__doc__ = _uri_init.__doc__
_uri_class.__init__ = _memoised_uri_init

# addpylib (PyLibNode.eval) imports a layer's modules and then has
# bb.codeparser.add_module_functions parse every function of them (oe: ~1,000) for what
# task signatures need, bb.codeparser.modulecode_deps: a quarter of the configuration's
# time, which nothing reads while recipes are parsed. The calls are kept and made, in
# their order, before the first use of modulecode_deps (any read or write, from any
# thread; others wait for the one filling it): the same entries, computed when first
# needed, or never.
import bb.codeparser  # noqa: E402

_real_add_module_functions = bb.codeparser.add_module_functions
_module_functions_pending = []
_module_functions_lock = threading.RLock()
_module_functions_filler = [None]  # the thread making the kept calls


def _add_module_functions_later(fn, functions, namespace):
    with _module_functions_lock:
        _module_functions_pending.append((fn, functions, namespace))


def _fill_module_deps():
    if _module_functions_filler[0] == threading.get_ident():
        return  # the kept calls' own writes
    with _module_functions_lock:
        _module_functions_filler[0] = threading.get_ident()
        try:
            # Taken off the list once made: a thread that finds the list empty finds
            # the entries complete.
            while _module_functions_pending:
                _real_add_module_functions(*_module_functions_pending[0])
                _module_functions_pending.pop(0)
        finally:
            _module_functions_filler[0] = None


class _ModuleDeps(dict):
    """bb.codeparser.modulecode_deps, completed by the kept add_module_functions calls
    before any use."""

    __slots__ = ()


def _completed_first(name):
    method = getattr(dict, name)

    def call(self, *args, **kwargs):
        if _module_functions_pending:
            _fill_module_deps()
        return method(self, *args, **kwargs)

    call.__name__ = name
    return call


for _name in ("__getitem__", "__contains__", "__iter__", "__len__", "__repr__", "__eq__",
              "__ne__", "__or__", "__ror__", "__ior__", "__reversed__", "__setitem__",
              "__delitem__", "__reduce_ex__", "get", "keys", "values", "items", "copy",
              "pop", "popitem", "setdefault", "update", "clear"):
    setattr(_ModuleDeps, _name, _completed_first(_name))

bb.codeparser.modulecode_deps = _ModuleDeps(bb.codeparser.modulecode_deps)
bb.codeparser.add_module_functions = _add_module_functions_later


# bb.build.tasksbetween(start, end, d): the tasks on a dependency chain from `start` to
# `end`. BitBake's finds the tasks by reading the `task` flag of every name of the store
# in Python (populate_sdk_ext does it twice an image, through [depends]: 720,000 flag
# reads a parse); here the store answers that in one call (Store.names_with_flag) and
# the chains are followed the same way: depth first from `start`, each task's
# followers taken in the order of the tasks, a task reached again on the current chain
# fatal, and each chain that reaches `end` adding its tasks, in chain order, to those
# not yet found. Another kind of `d` gets BitBake's own function.
import bb.build  # noqa: E402

_bitbake_tasksbetween = bb.build.tasksbetween


def _tasksbetween(task_start, task_end, d):
    if type(d) is not DataProxy:
        return _bitbake_tasksbetween(task_start, task_end, d)
    tasks = d._s.names_with_flag("task")
    found = []
    chain = []

    def follow(task):
        if task in chain:
            bb.fatal("Circular task dependencies as %s depends on itself via the chain %s"
                     % (task, " -> ".join(chain)))
        chain.append(task)
        others = [other for other in tasks if other != task]
        if task == task_end:
            # BitBake adds the chain once per other task: the first time counts.
            if others:
                for t in chain:
                    if t not in found:
                        found.append(t)
        else:
            for other in others:
                if task in d.getVarFlag(other, "deps", False):
                    follow(other)
        chain.pop()

    follow(task_start)
    return found


_tasksbetween.__wrapped__ = _bitbake_tasksbetween
bb.build.tasksbetween = _tasksbetween

def add_tasks(store):
    """bb.build.add_tasks(__BBTASKS, d): task flags and _task_deps."""
    d = DataProxy(store)
    bb.build.add_tasks(d.getVar("__BBTASKS", False) or [], d)


def set_task_deps(store, task_deps):
    """The end of bb.build.add_tasks, whose loop bitzel ran on the store (task_deps.rs):
    d.setVar('_task_deps', task_deps)."""
    DataProxy(store).setVar("_task_deps", task_deps)


def add_pylib(store, libdir, namespace, filename, lineno):
    """The `addpylib` statement: BitBake's own PyLibNode, run against bitzel's store."""
    _generation[0] += 1
    bb.parse.ast.PyLibNode(filename, lineno, libdir, namespace).eval(DataProxy(store))


def insert_method(modulename, code, filename, lineno):
    """bb.methodpool.insert_method: define a `def` (or an anonymous function) in
    BitBake's global context, where inline Python and other functions find it.
    BitBake parses each recipe in a process of its own, so the last `def` of a name that
    a recipe's parse made is the one its expansions call (libgudev redefines
    gnomebase's gnome_verdir); bitzel parses recipes on threads sharing one context, so
    the functions are also kept per thread (_thread_defs) and win in that thread's
    inline expressions over another thread's later definition of the same name."""
    _generation[0] += 1
    comp = bb.utils.better_compile(code, modulename, filename, lineno=lineno)
    # The code's locals are a dict of their own and its globals BitBake's context: the
    # functions see the context as BitBake's do, and the names they got are known.
    defined = {}
    bb.utils.better_exec(comp, defined, code, filename)
    bb.utils._context.update(defined)
    _thread_defs.setdefault(threading.get_ident(), {}).update(defined)


def raise_expansion_error(varname, expression, exc_type, exc_message, varlist):
    """Re-raise an expansion failure that bitzel's store reported as a real
    bb.data_smart.ExpansionError, so Python code that catches it behaves the same."""
    exc_class = types.new_class(exc_type, (Exception,))
    err = bb.data_smart.ExpansionError(varname, expression, exc_class(exc_message))
    err.varlist = list(varlist)
    raise err


def raise_skip_recipe(message):
    raise bb.parse.SkipRecipe(message)


def raise_handled(message):
    raise bb.BBHandledException(message) if message else bb.BBHandledException()


def raise_exit(code):
    raise SystemExit(int(code) if code.lstrip("-").isdigit() else code)


def describe(exc):
    """What Rust needs of an exception: its kind and BitBake's view of it."""
    if isinstance(exc, bb.parse.SkipRecipe):
        return ("skip", str(exc), None, None, None)
    if isinstance(exc, bb.data_smart.ExpansionError):
        inner = exc.exception
        return (
            "expansion",
            exc.variablename,
            exc.expression,
            (type(inner).__name__, str(inner)),
            list(exc.varlist),
        )
    if isinstance(exc, bb.BBHandledException):
        if exc.args and isinstance(exc.args[0], BaseException):
            inner = exc.args[0]
            if isinstance(inner, bb.parse.SkipRecipe):
                return ("skip", str(inner), None, None, None)
            return ("handled", type(inner).__name__, str(inner), None, None)
        return ("handled", type(exc).__name__, str(exc), None, None)
    if isinstance(exc, SystemExit):
        return ("exit", str(exc.code), None, None, None)
    return ("python", type(exc).__name__, str(exc), None, None)


# Profiling, for measurements only: with BITZEL_PYTHON_PROFILE=FILE in the environment,
# every entry point that Rust calls runs under a cProfile profiler of its thread, and
# write_profile() (called when the bridge is dropped) writes their statistics, merged,
# to FILE (`python3 -m pstats FILE`). Nothing changes without the variable.
_profile_path = os.environ.get("BITZEL_PYTHON_PROFILE")
_profilers = {}  # thread -> [profiler, depth]


def _profiled(fn):
    import cProfile

    def entry(*args):
        slot = _profilers.setdefault(threading.get_ident(), [cProfile.Profile(), 0])
        slot[1] += 1
        try:
            if slot[1] > 1:  # nested (an expansion inside an anonymous function)
                return fn(*args)
            slot[0].enable()
            try:
                return fn(*args)
            finally:
                slot[0].disable()
        finally:
            slot[1] -= 1

    entry.__name__ = fn.__name__
    return entry


def write_profile():
    """Writes the profilers' statistics to BITZEL_PYTHON_PROFILE's file, if set."""
    if not _profile_path or not _profilers:
        return
    import pstats
    stats = None
    for prof, _ in list(_profilers.values()):
        if stats is None:
            stats = pstats.Stats(prof)
        else:
            stats.add(prof)
    # Past the write guard: the user asked for this file.
    real_open = getattr(builtins.open, "__wrapped__", builtins.open)
    with real_open(_profile_path, "wb") as f:
        marshal.dump(stats.stats, f)


if _profile_path:
    for _name in ("eval_inline", "run_anonymous", "fire_recipe_event", "fire_config_event",
                  "add_tasks", "set_task_deps", "add_pylib", "insert_method"):
        globals()[_name] = _profiled(globals()[_name])
