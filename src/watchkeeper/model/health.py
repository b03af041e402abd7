"""The daemon's own health, as the web server's /metrics reports it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Health:
    hosts: int
    active_checks: int
    cycles: int
    services_checked: int
    fetch_errors: int
    plugins_run: int
    unwritten_cycles: int
    """Cycles checked but not yet in the store (grows while the store cannot be written)."""
    start_delays: tuple[float, ...]
    """Recent delays between when checks were due and when they started, in seconds."""
    delay_count: int = 0
    delay_sum: float = 0.0
    """Every check's start delay since the daemon started: how many, and their sum in seconds."""
