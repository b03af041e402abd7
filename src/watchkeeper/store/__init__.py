"""Persistence: SQLite in WAL mode, the embedded default store."""

