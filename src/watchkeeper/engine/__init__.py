"""Synchronous heart: agent output in, service outcomes out. No I/O here."""
