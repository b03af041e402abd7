"""State changes in, notifications out: soft/hard states, flapping, downtimes, acknowledgements,
notification rules, bulk and digest messages, and a persistent delivery spool."""
