"""Deciding when to run what."""
