"""Loopback fakes of the platforms adapters talk to (never the real services)."""
