"""Pending operating-system updates: security fixes waiting to be installed."""
