"""Stub of prserv.serv: the cooker calls auto_start() at start and auto_shutdown() at exit.

The real auto_start() starts a PR service only when PRSERV_HOST is set; bitzel's fixture
layers never set it, so this one refuses PRSERV_HOST and otherwise does nothing, as the
real one does without it.
"""


class PRServiceConfigError(Exception):
    pass


def auto_start(d):
    if (d.getVar("PRSERV_HOST") or "").strip():
        raise RuntimeError("prserv is a stub in bitzel's BitBake oracle: PRSERV_HOST is unsupported")
    return None


def auto_shutdown():
    pass
