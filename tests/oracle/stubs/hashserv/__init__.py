"""Empty stand-in for BitBake's hashserv, which the PyPI wheel of bitbake lacks.

bb.siggen imports it; statement parsing never uses it.
"""
