"""Stub of BitBake's hashserv package, for the PyPI wheel that lacks it.

bb.cooker and bb.siggen import hashserv at module level; only a build that uses hash
equivalence (BB_HASHSERVE) calls into it, and bitzel's fixture layers never do. Every
call fails loudly instead of pretending to be a server. Poky's bitbake/lib has the real
package, which the oracle uses when it is there.
"""


def _unavailable(*args, **kwargs):
    raise RuntimeError("hashserv is a stub in bitzel's BitBake oracle: BB_HASHSERVE is unsupported")


create_client = _unavailable
create_server = _unavailable
create_async_client = _unavailable
is_valid_unihash = _unavailable
