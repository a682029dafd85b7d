#!/usr/bin/env python3
"""Real BitBake's fetcher on some SRC_URI entries: download, then unpack, as do_fetch and
do_unpack run them, for bitzel's git and crate tests (tests/e2e_git.rs).

    bb_fetch.py REQUEST.json

REQUEST.json: {"vars": {NAME: VALUE, ...}, "urls": [SRC_URI entry, ...], "unpackdir": DIR}.
A fresh DataSmart gets the variables (DL_DIR, SRCREV, BP, PATH, checksums...), then
`bb.fetch2.Fetch(urls, d)` downloads every entry and unpacks it into DIR, as
base.bbclass's do_fetch and do_unpack do. Works offline for `protocol=file` git remotes
and for downloads already in DL_DIR with their checksum. Prints BitBake's version.
"""

import json
import os
import sys

# BitBake's lib (Poky's, for scarthgap) first when given; PyPI's bitbake lacks hashserv,
# which bb.siggen imports: the stubs stand in for it (tests/oracle/README.md).
if os.environ.get("BITZEL_BITBAKE_LIB"):
    sys.path.insert(0, os.environ["BITZEL_BITBAKE_LIB"])
sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "stubs"))

import bb  # noqa: E402
import bb.data  # noqa: E402
import bb.fetch2  # noqa: E402


def main():
    with open(sys.argv[1]) as f:
        request = json.load(f)
    d = bb.data.init()
    for name, value in request["vars"].items():
        d.setVar(name, value)
    fetcher = bb.fetch2.Fetch(request["urls"], d)
    fetcher.download()
    os.makedirs(request["unpackdir"], exist_ok=True)
    fetcher.unpack(request["unpackdir"])
    print(bb.__version__)


if __name__ == "__main__":
    main()
