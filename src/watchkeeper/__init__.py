"""Watchkeeper: infrastructure monitoring for people who run their own storage and virtualization."""

__version__ = "0.1.0"
