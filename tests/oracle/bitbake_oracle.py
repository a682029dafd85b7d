#!/usr/bin/env python3
"""Run real BitBake on a build directory of fixture layers: the oracle of bitzel's tests.

    python3 tests/oracle/bitbake_oracle.py [options] BUILDDIR -- BITBAKE-ARGS [-- BITBAKE-ARGS ...]

BUILDDIR holds conf/bblayers.conf and conf/local.conf. It is copied into a temporary
directory first (BitBake writes its lock, socket, log, TMPDIR and cache next to its conf/),
and every "@LAYERS@" in the copied files becomes an absolute path (--layers, by default the
parent of BUILDDIR), since BitBake wants absolute BBLAYERS.

One command (`BUILDDIR -- -e hello`): BitBake's stdout and stderr pass through, and the
files it writes into the build directory (task-depends.dot and pn-buildlist for -g) are
moved to --outdir (default: the current directory).

Several commands (`BUILDDIR -- -e hello -- -e libgreet -- -s`) share one BitBake server,
so the cooker and its configuration are set up once: the server is started with an idle
timeout, each command is a client that reconnects to it, and `bitbake -m` ends it.
Command N's stdout goes to OUTDIR/N/stdout and its files to OUTDIR/N/.

Which BitBake runs: --lib, else $BITZEL_POKY/bitbake/lib, else the `bb` package that this
Python imports (PyPI's bitbake-setup). The version is printed on stderr.

How the server starts: bb/server/process.py execs the script
`<dir of bb>/../../bin/bitbake-server`, which the PyPI wheel does not ship. So the temporary
directory gets a BitBake-shaped tree, lib/ and bin/. lib/bb is a directory of symbolic
links to the real package; lib/bb/server and lib/bb/pysh are real directories of links, so
that "../../.." resolves inside the tree and the parser tables pysh writes on every start
land there. bin/bitbake-server is a launcher written here that does what BitBake's own
bin/bitbake-server does (replace stdin, decode its arguments) and calls BitBake's
bb.server.process.execServer. Poky's BitBake gets the same tree, so both versions start the
same way. lib/hashserv and lib/prserv are BitBake's own when the lib directory has them
(Poky), stubs otherwise (the wheel); fixture runs never use those services.

Nothing is written outside the temporary directory and --outdir: Python byte code is not
cached unless --pycache names a directory for it. The server is always stopped: the driver
is a child subreaper (the daemonized server becomes its child), waits for the server to
release bitbake.lock and exit, and kills its process group after a grace period.

See README.md beside this file.
"""

import argparse
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
STUBS = os.path.join(HERE, "stubs")

# Files in the build directory that belong to the server, not to the command's output.
SERVER_FILES = {"bitbake.lock", "bitbake.sock", "bitbake-cookerdaemon.log"}

# Packages of bb that are real directories in the temporary tree, with the files to leave
# out. bb/server/process.py finds bin/bitbake-server from its own directory, and
# bb/pysh/pyshyacc.py writes its parser tables (pyshtables.py) into its own directory on
# every start: both must resolve inside the temporary tree.
REAL_DIRS = {"server": set(), "pysh": {"pyshtables.py"}}

# Idle timeout (seconds) of a server shared by several commands. It only matters if the
# driver dies between two commands; normally `bitbake -m` ends the server.
SESSION_IDLE_TIMEOUT = "60"

LAUNCHER = """#!/usr/bin/env python3
# Written by bitzel's tests/oracle/bitbake_oracle.py for one run: starts the BitBake server.
import sys
{pycache}
sys.path.insert(0, {lib!r})
sys.path.insert(1, {here!r})
import bitbake_oracle
bitbake_oracle.server_main(sys.argv, poll={poll!r})
"""


def log(msg):
    print("bitbake-oracle: " + msg, file=sys.stderr, flush=True)


def pycache_setting(pycache):
    if pycache:
        return "sys.pycache_prefix = %r" % os.path.abspath(pycache)
    return "sys.dont_write_bytecode = True"


def apply_pycache(pycache):
    if pycache:
        sys.pycache_prefix = os.path.abspath(pycache)
    else:
        sys.dont_write_bytecode = True


# ---------------------------------------------------------------------------------------
# Roles 2 and 3: the BitBake client and the BitBake server, each in its own process.


def check_utf8():
    # BitBake's scripts also insist on an en_US.UTF-8 locale (check_system_locale); a fresh
    # Debian has none, and what BitBake needs is a UTF-8 file system encoding, which Python
    # gives in its UTF-8 mode too.
    if sys.getfilesystemencoding().lower() != "utf-8":
        sys.exit("bitbake-oracle: Python's file system encoding must be UTF-8 (set LANG=C.UTF-8)")


def client_main(root, pycache, argv):
    """`bitbake ARGV` with the bb package of ROOT/lib, in the build directory (the cwd)."""
    apply_pycache(pycache)
    lib = os.path.join(root, "lib")
    sys.path.insert(0, lib)
    import warnings

    warnings.simplefilter("default")
    import bb
    from bb import cookerdata
    from bb.main import BBMainException, BitBakeConfigParameters, bitbake_main

    if not os.path.abspath(bb.__file__).startswith(lib + os.sep):
        sys.exit("bitbake-oracle: imported bb from %s, not from %s" % (bb.__file__, lib))
    check_utf8()
    if argv != ["--kill-server"]:
        where = os.path.dirname(os.path.realpath(bb.__file__))
        log("BitBake %s (bb from %s)" % (bb.__version__, where))
    # BitBake records its command line (BB_CMDLINE): make it read like `bitbake ARGS`.
    sys.argv = [os.path.join(root, "bin", "bitbake")] + argv
    try:
        return bitbake_main(
            BitBakeConfigParameters(sys.argv), cookerdata.CookerConfiguration()
        )
    except BBMainException as err:
        sys.exit(err)
    except bb.BBHandledException:
        return 1
    except Exception:
        import traceback

        traceback.print_exc()
        return 1


class CappedSelect:
    """Stands in for the `select` module inside bb.server.process (see server_main)."""

    def __init__(self, poll):
        import select

        self.real = select.select
        self.poll = poll

    def select(self, rlist, wlist, xlist, timeout=None):
        if timeout is not None and timeout > self.poll:
            timeout = self.poll
        return self.real(rlist, wlist, xlist, timeout)


def server_main(argv, poll=None):
    """What BitBake's bin/bitbake-server does, for bb/server/process.py's os.execl().

    argv: decafbad LOCKFD READYFD LOGFILE LOCKNAME SOCKNAME TIMEOUT PROFILE XMLHOST XMLPORT.
    PROFILE is "0"/"1" in BitBake 2.8 and a Python list literal ("[]") in 2.19.
    """
    if len(argv) != 11 or not argv[1].startswith("decafbad"):
        sys.exit("bitbake-oracle: the server launcher is only run by BitBake itself")
    import ast
    import logging
    import warnings

    warnings.simplefilter("default")
    import bb
    import bb.server.process

    check_utf8()
    lockfd, readyfd = int(argv[2]), int(argv[3])
    logfile, lockname, sockname = argv[4], argv[5], argv[6]
    timeout = float(argv[7])
    profile = ast.literal_eval(argv[8])
    if isinstance(profile, int):
        profile = bool(profile)
    xmlrpcinterface = (None if argv[9] == "None" else argv[9], int(argv[10]))

    with open("/dev/null", "r") as devnull:
        os.dup2(devnull.fileno(), sys.stdin.fileno())
    with open(logfile, "a+") as out:
        os.dup2(out.fileno(), sys.stdout.fileno())
        os.dup2(out.fileno(), sys.stderr.fileno())
    # One stream, so that the log stays in order.
    sys.stderr = sys.stdout
    logging.getLogger("BitBake").addHandler(bb.event.LogHandler())
    if poll:
        # The server's two loops sleep in select() for up to 1s between looks at their
        # work: a new command waits for the idle loop's next turn and the exit waits for it
        # once more, about 2s of every run. Shorter sleeps change when BitBake looks, not
        # what it does.
        bb.server.process.select = CappedSelect(poll)
    bb.server.process.execServer(
        lockfd, readyfd, lockname, sockname, timeout, xmlrpcinterface, profile
    )


# ---------------------------------------------------------------------------------------
# Role 1: the driver.


def find_lib(args):
    if args.lib:
        return os.path.abspath(args.lib), True
    poky = os.environ.get("BITZEL_POKY")
    if poky:
        return os.path.join(os.path.abspath(poky), "bitbake", "lib"), True
    import importlib.util

    spec = importlib.util.find_spec("bb")
    if spec is None or not spec.submodule_search_locations:
        sys.exit(
            "bitbake-oracle: no `bb` package for %s: pip install bitbake-setup, "
            "or set BITZEL_POKY to a Poky checkout" % sys.executable
        )
    return os.path.dirname(list(spec.submodule_search_locations)[0]), False


def make_bitbake_tree(root, lib, whole_lib, pycache, poll):
    """ROOT/lib and ROOT/bin shaped like a BitBake checkout; see the module comment."""
    real_bb = os.path.join(lib, "bb")
    if not os.path.isfile(os.path.join(real_bb, "server", "process.py")):
        sys.exit("bitbake-oracle: %s is not BitBake's bb package" % real_bb)
    tree_lib = os.path.join(root, "lib")
    tree_bb = os.path.join(tree_lib, "bb")
    os.makedirs(tree_bb)
    for entry in os.listdir(real_bb):
        if entry not in REAL_DIRS:
            os.symlink(os.path.join(real_bb, entry), os.path.join(tree_bb, entry))
    for sub, leave_out in REAL_DIRS.items():
        os.makedirs(os.path.join(tree_bb, sub))
        for entry in os.listdir(os.path.join(real_bb, sub)):
            if entry not in leave_out:
                os.symlink(os.path.join(real_bb, sub, entry), os.path.join(tree_bb, sub, entry))
    # A Poky bitbake/lib also holds the modules bb imports (bs4, ply, hashserv, ...); the
    # wheel's site-packages is on sys.path anyway.
    if whole_lib:
        for entry in os.listdir(lib):
            if entry != "bb":
                os.symlink(os.path.join(lib, entry), os.path.join(tree_lib, entry))
    for service in ("hashserv", "prserv"):
        if not os.path.exists(os.path.join(tree_lib, service)):
            os.symlink(os.path.join(STUBS, service), os.path.join(tree_lib, service))
    os.makedirs(os.path.join(root, "bin"))
    launcher = os.path.join(root, "bin", "bitbake-server")
    with open(launcher, "w") as f:
        f.write(LAUNCHER.format(pycache=pycache_setting(pycache), lib=tree_lib, here=HERE, poll=poll))
    os.chmod(launcher, 0o755)


def copy_build_dir(src, dst, layers):
    """Copy the build directory template, replacing @LAYERS@ in its text files."""
    skip = SERVER_FILES | {"tmp", "cache", "sstate-cache", "downloads"}
    for dirpath, dirnames, filenames in os.walk(src):
        rel = os.path.relpath(dirpath, src)
        if rel == ".":
            dirnames[:] = [d for d in dirnames if d not in skip]
            filenames = [f for f in filenames if f not in skip]
        os.makedirs(os.path.join(dst, rel), exist_ok=True)
        for name in filenames:
            with open(os.path.join(dirpath, name), "rb") as f:
                data = f.read()
            data = data.replace(b"@LAYERS@", layers.encode())
            with open(os.path.join(dst, rel, name), "wb") as f:
                f.write(data)


def process_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
            return True
        except OSError:
            return False


def stop_server(build, timeout):
    """Wait until the server has let go of bitbake.lock and exited; kill it after TIMEOUT."""
    lockpath = os.path.join(build, "bitbake.lock")
    deadline = time.monotonic() + timeout
    pid = None
    lock_free = False
    while time.monotonic() < deadline:
        try:
            with open(lockpath) as f:
                words = f.read().split()
                if words and words[0].isdigit():
                    pid = int(words[0])
                try:
                    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    fcntl.flock(f, fcntl.LOCK_UN)
                    lock_free = True
                except BlockingIOError:
                    lock_free = False
        except FileNotFoundError:
            lock_free = True
        if lock_free and (pid is None or not process_alive(pid)):
            return True
        time.sleep(0.02)
    if pid is None:
        log("bitbake.lock still held after %ss and no server pid in it" % timeout)
        return False
    log("the BitBake server (pid %d) did not exit within %ss: killing it" % (pid, timeout))
    try:
        pgid = os.getpgid(pid)
        os.killpg(pgid, signal.SIGTERM)
        for _ in range(100):
            if not process_alive(pid):
                break
            time.sleep(0.05)
        else:
            os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return False


def become_subreaper():
    """Have the daemonized server (and anything else BitBake leaves) re-parented to us.

    BitBake's server double-forks away from its client; as a child subreaper the driver
    gets it as its own child, so that it can reap it and find whatever it left behind.
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_CHILD_SUBREAPER = 36
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def our_children():
    """Pids whose parent is this process (from /proc)."""
    me, pids = os.getpid(), []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == me:
                pids.append(int(entry))
    return pids


def reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def end_leftovers(timeout=5.0):
    """Reap exited descendants; kill any still running after TIMEOUT. Returns True if none."""
    deadline = time.monotonic() + timeout
    while True:
        reap()
        alive = [pid for pid in our_children() if process_alive(pid)]
        if not alive:
            return True
        if time.monotonic() > deadline:
            break
        time.sleep(0.02)
    for pid in alive:
        log("killing leftover process %d" % pid)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    time.sleep(0.1)
    reap()
    return False


def show_server_log(build):
    path = os.path.join(build, "bitbake-cookerdaemon.log")
    if os.path.exists(path):
        with open(path, errors="replace") as f:
            lines = f.readlines()
        log("last lines of the server log:\n" + "".join(lines[-40:]))


def split_commands(rest):
    commands, current = [], []
    for word in rest:
        if word == "--":
            commands.append(current)
            current = []
        else:
            current.append(word)
    commands.append(current)
    return [c for c in commands if c]


def run_client(root, build, command, stdout, args, extra_env=None):
    """One `bitbake COMMAND` client in BUILD; returns its exit status (124: timed out)."""
    client = [sys.executable, os.path.abspath(__file__), "--client", root]
    if args.pycache:
        client += ["--client-pycache", os.path.abspath(args.pycache)]
    client += ["--"] + command
    env = dict(os.environ)
    env.setdefault("LANG", "C.UTF-8")
    # As if `bitbake` were started in the build directory (PWD shows in `bitbake -e`).
    env["PWD"] = build
    env.update(extra_env or {})
    started = time.monotonic()
    try:
        rc = subprocess.run(
            client,
            cwd=build,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            timeout=args.timeout,
        ).returncode
    except subprocess.TimeoutExpired:
        log("bitbake %s: no answer within %ss" % (" ".join(command), args.timeout))
        rc = 124
    log("bitbake %s: exit %d, %.2fs" % (" ".join(command), rc, time.monotonic() - started))
    if rc != 0:
        show_server_log(build)
    return rc


def move_outputs(build, before, dest):
    """Move the files the command wrote into the build directory's top to DEST."""
    os.makedirs(dest, exist_ok=True)
    for name in sorted(set(os.listdir(build)) - before - SERVER_FILES):
        path = os.path.join(build, name)
        if os.path.isfile(path):
            shutil.move(path, os.path.join(dest, name))


def main(argv):
    parser = argparse.ArgumentParser(
        description="Run real BitBake on a build directory (see the module comment).",
        usage="%(prog)s [options] BUILDDIR -- BITBAKE-ARGS [-- BITBAKE-ARGS ...]",
    )
    parser.add_argument("builddir", help="build directory template (conf/bblayers.conf ...)")
    parser.add_argument(
        "--lib",
        help="BitBake's lib directory (default: $BITZEL_POKY/bitbake/lib, else the bb "
        "package this Python imports)",
    )
    parser.add_argument("--layers", help="what @LAYERS@ stands for (default: BUILDDIR/..)")
    parser.add_argument("--outdir", help="where outputs go (default: the current directory)")
    parser.add_argument(
        "--workdir",
        help="use this new directory instead of a temporary one, and keep it (BitBake's "
        "output names paths in it; WORKDIR/build is the build directory)",
    )
    parser.add_argument("--pycache", help="cache Python byte code in this directory")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per command")
    parser.add_argument(
        "--poll",
        type=float,
        default=0.02,
        help="longest sleep (s) of the server's loops; 0 keeps BitBake's 1s (default 0.02)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    if "--" not in argv:
        parser.error("BitBake's arguments come after --")
    split = argv.index("--")
    args = parser.parse_args(argv[:split])
    commands = split_commands(argv[split + 1 :])
    if not commands:
        parser.error("no BitBake arguments after --")

    builddir = os.path.abspath(args.builddir)
    if not os.path.isfile(os.path.join(builddir, "conf", "bblayers.conf")):
        sys.exit("bitbake-oracle: %s has no conf/bblayers.conf" % builddir)
    layers = os.path.abspath(args.layers or os.path.dirname(builddir))
    outdir = os.path.abspath(args.outdir or os.getcwd())
    lib, whole_lib = find_lib(args)

    if args.workdir:
        root = os.path.abspath(args.workdir)
        if os.path.exists(root) and os.listdir(root):
            sys.exit("bitbake-oracle: --workdir %s is not empty" % root)
        os.makedirs(root, exist_ok=True)
    else:
        root = tempfile.mkdtemp(prefix="bitzel-oracle-")
    build = os.path.join(root, "build")
    started = time.monotonic()
    stopped = False
    become_subreaper()
    try:
        make_bitbake_tree(root, lib, whole_lib, args.pycache, args.poll or None)
        copy_build_dir(builddir, build, layers)
        log("build directory %s" % build)
        status = run_commands(root, build, commands, outdir, args)
    finally:
        stopped = not os.path.isdir(build) or stop_server(build, 30)
        stopped = end_leftovers() and stopped
        if args.keep or args.workdir:
            log("kept %s" % root)
        else:
            shutil.rmtree(root, ignore_errors=True)
        log("total %.2fs" % (time.monotonic() - started))
    return status or (0 if stopped else 1)


def run_commands(root, build, commands, outdir, args):
    if len(commands) == 1:
        before = set(os.listdir(build))
        status = run_client(root, build, commands[0], None, args)
        move_outputs(build, before, outdir)
        return status
    # One server for all commands: the first client starts it with an idle timeout so
    # that it waits for the next client, and `bitbake --kill-server` ends it. The timeout
    # goes through the environment (BitBake's default for --idle-timeout), which leaves
    # BB_CMDLINE as in a fresh run; bitbake drops it from the environment it passes on.
    status = 0
    for number, command in enumerate(commands, start=1):
        dest = os.path.join(outdir, str(number))
        os.makedirs(dest, exist_ok=True)
        before = set(os.listdir(build))
        extra_env = {"BB_SERVER_TIMEOUT": SESSION_IDLE_TIMEOUT} if number == 1 else None
        with open(os.path.join(dest, "stdout"), "wb") as stdout:
            rc = run_client(root, build, command, stdout, args, extra_env)
        move_outputs(build, before, dest)
        status = status or rc
        if rc == 124:
            break
    # It says "Terminated bitbake server." on stdout: keep ours for BitBake's outputs.
    return run_client(root, build, ["--kill-server"], sys.stderr, args) or status


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--client":
        rest = sys.argv[3:]
        pycache = None
        if rest[:1] == ["--client-pycache"]:
            pycache, rest = rest[1], rest[2:]
        sys.exit(client_main(sys.argv[2], pycache, rest[1:]))
    sys.exit(main(sys.argv[1:]))
