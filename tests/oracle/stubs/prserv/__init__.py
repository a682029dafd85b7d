"""Stub of BitBake's prserv package, for the PyPI wheel that lacks it; see serv.py."""
