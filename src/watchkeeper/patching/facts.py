"""The facts of the patch plan, read from the store: what each host's `APT updates` (or `DNF
updates`) service remembers (pending versions, first seen; versions it installed), when its
services last went WARN or CRIT, its labels, and its next host downtime within a week."""

from __future__ import annotations

import fnmatch

from watchkeeper.patching.plan import DAY, HostFacts, Pending
from watchkeeper.store.database import Store
from watchkeeper.store.notify_tables import NotifyTables

UPDATES_SERVICES = ("APT updates", "DNF updates")
NOT_PROBLEMS = (*UPDATES_SERVICES, "Reboot needed", "Unmerged configuration", "Service discovery")
"""What patching itself makes WARN on a canary: not a sign that the new versions broke something."""
WINDOW_STEP_S = 900.0
WINDOW_HORIZON_S = 7 * DAY


def fleet_facts(store: Store, now: float) -> list[HostFacts]:
    downtimes = [d for d in NotifyTables(store).downtimes() if d.service is None]
    problems: dict[str, dict[str, float]] = {}
    for host, service, since in store.query("SELECT host, service, MAX(ts) FROM state_history "
                                            "WHERE state IN (1, 2) GROUP BY host, service"):  # '': the host DOWN
        problems.setdefault(host, {})[service] = float(since)
    found = []
    for row in store.hosts():
        name = row.config.name
        memories = store.value_stores(name)
        memory = next((memories[s] for s in UPDATES_SERVICES if s in memories), {})
        pending, installed = [], {}
        for key, value in memory.items():
            if key.startswith("pending.") and isinstance(value, list) and len(value) == 3 and isinstance(
                    value[2], int | float):
                pending.append(Pending(key[len("pending."):], str(value[0]), bool(value[1]), float(value[2])))
            elif key.startswith("installed.") and isinstance(value, list) and len(value) == 2 and isinstance(
                    value[1], int | float):
                installed[key[len("installed."):]] = (str(value[0]), float(value[1]))
        window = None
        step = now
        mine = [d for d in downtimes if fnmatch.fnmatchcase(name, d.host)]  # most hosts have none to scan
        while mine and step < now + WINDOW_HORIZON_S:
            if any(d.covers(name, "", step) for d in mine):
                window = step
                break
            step += WINDOW_STEP_S
        found.append(HostFacts(name, row.config.uri, dict(row.config.opts.labels), tuple(pending), installed,
                               {s: t for s, t in problems.get(name, {}).items() if s not in NOT_PROBLEMS}, window))
    return found
