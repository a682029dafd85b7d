#!/usr/bin/env python3
"""Differential fuzzing of bitzel's parser against BitBake's own parser.

Writes N random BitBake-ish files (line soup from statement fragments) to a temporary
folder, prints their statements with tests/bitbake_statements.py (BitBake) and with
examples/dump_statements (bitzel), and reports every file where the two differ.

Usage: cargo build --release --example dump_statements
       BITBAKE_LIB=/path/to/poky/bitbake/lib tests/bitbake_differential.py [SEED] [N]

Known, accepted difference: BitBake can number a line past the end of the file (an
error at the end of a file without a final line end, a statement whose last `\` joins
the end of the file); bitzel cannot point past the end of the text. Such differences are
not reported.
"""
import os, random, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FRAGMENTS = [
    "A", "FOO:append", "B[doc]", "B[d]", " ", "\t", "=", "?=", "??=", ":=", "+=", "=+", ".=",
    "=.", "\"", "'", "x", "${A}", "${@", "{", "}", "(", ")", "\\", "#", "# c", "\n", "\n",
    "\n", "\n", "export ", "unset ", "include ", "require ", "inherit ", "inherit_defer ",
    "addtask ", "before", "after", " before ", " after ", "deltask ", "addhandler ",
    "EXPORT_FUNCTIONS ", "addpylib ", "python ", "fakeroot ", "do_x", "() {", "}\n", "\n}\n",
    "def f(d):", "    ", "\u00a0", "é", "[", "]", "@", "\r\n", "\r", "\x1c", "\x0c", "\x85",
    "\u2028", "EXPORT_FUNCTIONS do_a\n", "inherit_defer  \n", "include  a b\n",
    "addpylib a b c\n", "unset A[ab]\n", "export A\n", "A = \"v\"\n", "do_a() {\n",
    "python () {\n", "\\\n", "def g():\n", "  pass\n", "B = 'q'",
    "addtask a after b before c\n",
    # Whole statements, so that valid forms meet each other (include_all is left out:
    # scarthgap refuses it, bitzel accepts it on purpose).
    'A[doc] ??= "x"\n', "export B ?= 'y'\n", "C:append:foo = \" ${@d.getVar('X') or {}}\"\n",
    'do_x[depends] += "a:b"\n', "python do_y () {\n", "fakeroot python do_z() {\n",
    "addtask do_q after do_a before do_b\n", "addtask do_r before do_after_x\n",
    "inherit ${@'a' if d else ''}\n", "unset X[ab]\n", "unset X[a]\n", "export Y\n",
    'A+="a"\n', 'A=+"a"\n', 'A.="a"\n', 'A=."a"\n', 'A::="a"\n', 'A = "a"b"\n',
    'A = "a"b"c"\n', "def h(a, \\\n", "    b):\n", "\tpass\n", "    return 1\n", "}\n",
    "  }\n", "} # c\n", "require ${A}.inc\n", "deltask do_a\n", "addhandler h\n",
    "EXPORT_FUNCTIONS do_a do_b\n", "addpylib ${L}/lib oe\n", "# comment \\\n",
    'A = "multi \\\n', '    line"\n', "do_f() {\n", "python __anonymous () {\n",
    "B = 'it\"s'\n",
]


def load(text):
    out, cur = {}, None
    for line in text.split("\n"):
        if line.startswith("FILE "):
            cur = line[5:]
            out[cur] = []
        else:
            out[cur].append(line)
    return out


def main():
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    rng = random.Random(seed)
    tmp = tempfile.mkdtemp(prefix="bitzel-diff-")
    files = []
    for i in range(n):
        text = "".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 40)))
        kind = rng.choice([".bb", ".conf", "/layer.conf"])
        path = os.path.join(tmp, "c%05d%s" % (i, kind))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        files.append(path)
    bb = subprocess.run([sys.executable, os.path.join(HERE, "bitbake_statements.py")] + files,
                        capture_output=True, text=True).stdout
    bz = subprocess.run([os.path.join(ROOT, "target/release/examples/dump_statements")] + files,
                        capture_output=True, text=True).stdout
    a, b = load(bb), load(bz)
    bad = 0
    for f in files:
        x, y = a.get(f, []), b.get(f, [])
        if x == y:
            continue
        with open(f, encoding="utf-8") as fh:
            lines = fh.readlines()
        if len(x) == len(y) and x[:-1] == y[:-1]:
            xl, yl = x[-1].split(" "), y[-1].split(" ")
            if xl[0] == yl[0] and xl[2:] == yl[2:] and xl[1].isdigit() and int(xl[1]) > len(lines):
                continue
        if x and y and x[-1] == "ERROR ?" and y[-1].startswith("ERROR") and x[:-1] == y[:-1]:
            continue  # BitBake died without a line number (bb.fatal, IndexError)
        if x and y and x[-1] == "ERROR 0" and y[-1].startswith("ERROR") and x[:-1] == y[:-1]:
            continue  # "Task name contains a keyword": BitBake gives no line
        bad += 1
        print("DIFFERS %s\n  bitbake: %s\n  bitzel:  %s" % (f, x[-3:], y[-3:]))
    print("%d of %d files differ (files in %s)" % (bad, n, tmp))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
