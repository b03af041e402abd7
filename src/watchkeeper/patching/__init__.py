"""The patch policy: which hosts to patch now, which can wait, which need a window (pure functions)."""
