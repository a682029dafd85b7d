"""Stub of hashserv.client (imported by bb.siggen); see hashserv/__init__.py."""
