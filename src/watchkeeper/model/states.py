"""The one vocabulary of states, from a service's first check to its alerting.

PENDING: not judged yet (a counter seen once). OK, WARN, CRIT, UNKNOWN: a check's verdict,
the codes Nagios plugins exit with. STALE: no fresh data (the host is DOWN, a passive result
is overdue); stored as UNKNOWN with a `stale` mark, and kept apart from UNKNOWN by alerting,
which never notifies it for a service whose host is down. Hosts use the same codes: UP is OK,
DOWN is CRIT, UNREACHABLE is UNKNOWN.
"""

from __future__ import annotations

PENDING, OK, WARN, CRIT, UNKNOWN, STALE = -1, 0, 1, 2, 3, 4
NAMES = {PENDING: "PENDING", OK: "OK", WARN: "WARN", CRIT: "CRIT", UNKNOWN: "UNKNOWN", STALE: "STALE"}
HOST_NAMES = {PENDING: "PENDING", OK: "UP", CRIT: "DOWN", UNKNOWN: "UNREACHABLE", STALE: "STALE"}
BY_NAME = {**{name: code for code, name in NAMES.items()}, "UP": OK, "DOWN": CRIT, "UNREACHABLE": UNKNOWN}


def state_name(state: int, stale: bool = False) -> str:
    """The name shown for a stored state (`stale` marks an UNKNOWN without fresh data)."""
    return "STALE" if stale else NAMES.get(state, "UNKNOWN")
