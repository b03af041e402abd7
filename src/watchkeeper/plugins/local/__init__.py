"""Local checks: scripts on the host that print their own verdicts."""
