"""Empty stand-in for hashserv.client (see the package docstring)."""
