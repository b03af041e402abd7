"""TCP connections by state."""
