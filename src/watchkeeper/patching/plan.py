"""Patch now, wait, or needs a window: one decision per host with pending updates, with its reasons.

The facts per host (gathered from the store for the CLI, the API and the web page by `facts.fleet_facts`):
pending updates from the `APT updates` service's memory (package, candidate version, security,
first seen pending), the versions it recently installed (`installed.*`: it is then a canary for
them), problems that began on it since, its labels and its next downtime window.

Decision, from four questions (R20):

- **urgency** — security updates pending: +2; the host is exposed (`exposure=internet`) and
  they are security updates: +2; the oldest has waited longer than 3 days: +1.
- **maturity** — a pending version first seen less than 2 days ago anywhere in the fleet, with
  no canary (a host that installed it and had no new problem since): +2 risk; every pending
  update already tried on a canary: -1.
- **users affected** — `users=many`: +1 risk.
- **recovery time** — `recovery=snapshot`: +0, `recovery=backup`: +1, `recovery=rebuild`: +2,
  no label: +1 (unknown).

Patch now when urgency ≥ 2 and risk ≤ 2; needs a window when risk ≥ 3 (with the next
downtime window when there is one); otherwise wait (nothing urgent, or too little known).
Every factor that counted is a reason, so the decision can be argued with.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

DAY = 86400.0
SECURITY_WAIT_S = 3 * DAY
MATURE_AFTER_S = 2 * DAY
RECOVERY_RISK = {"snapshot": 0, "backup": 1, "rebuild": 2}
PATCH_NOW, WAIT, WINDOW = "patch now", "wait", "needs a window"


@dataclass(frozen=True, slots=True)
class Pending:
    package: str
    version: str
    security: bool
    first_seen: float


@dataclass(frozen=True, slots=True)
class HostFacts:
    host: str
    address: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    pending: Sequence[Pending] = ()
    installed: Mapping[str, tuple[str, float]] = field(default_factory=dict)
    """package -> (version, when): versions this host installed recently."""
    problems_since: Mapping[str, float] = field(default_factory=dict)
    """service -> when it last went WARN or CRIT: problems a canary may have met."""
    next_window: float | None = None
    """Start of the host's next downtime window, if one is scheduled within a week."""


@dataclass(frozen=True, slots=True)
class Decision:
    host: str
    address: str
    decision: str
    reasons: tuple[str, ...]
    security: tuple[str, ...]
    other: tuple[str, ...]
    next_window: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {"host": self.host, "decision": self.decision, "reasons": list(self.reasons),
                "security_updates": list(self.security), "other_updates": list(self.other),
                "next_window": self.next_window}


def canaries(fleet: Sequence[HostFacts], package: str, version: str) -> list[str]:
    """Hosts that installed `package` at `version` and had no new problem since."""
    found = []
    for host in fleet:
        installed = host.installed.get(package)
        if installed is None or installed[0] != version:
            continue
        if not any(since > installed[1] for since in host.problems_since.values()):
            found.append(host.host)
    return found


def first_seen_in_fleet(fleet: Sequence[HostFacts], package: str, version: str) -> float | None:
    seen = [p.first_seen for host in fleet for p in host.pending if p.package == package and p.version == version]
    return min(seen) if seen else None


def decide(host: HostFacts, fleet: Sequence[HostFacts], now: float) -> Decision | None:
    if not host.pending:
        return None
    security = sorted(p.package for p in host.pending if p.security)
    other = sorted(p.package for p in host.pending if not p.security)
    urgency, risk, reasons = 0, 0, []
    if security:
        urgency += 2
        reasons.append(f"{len(security)} security updates pending")
        if host.labels.get("exposure") == "internet":
            urgency += 2
            reasons.append("exposed to the internet (exposure=internet)")
        oldest = min(p.first_seen for p in host.pending if p.security)
        if now - oldest > SECURITY_WAIT_S:
            urgency += 1
            reasons.append(f"the oldest security update waits {(now - oldest) / DAY:.0f} days")
    else:
        reasons.append(f"only {len(other)} non-security updates pending")
    young, tried_updates = [], 0
    tried: set[str] = set()
    for pending in host.pending:
        first = first_seen_in_fleet(fleet, pending.package, pending.version) or pending.first_seen
        tested = canaries(fleet, pending.package, pending.version)
        tried.update(tested)
        tried_updates += bool(tested)
        if now - first < MATURE_AFTER_S and not tested:
            young.append(f"{pending.package} {pending.version}")
    if young:
        risk += 2
        reasons.append(f"new and untried anywhere yet: {', '.join(young[:3])}{' …' if len(young) > 3 else ''}")
    if tried:
        every = tried_updates == len(host.pending)
        risk -= every
        reasons.append(f"{'all' if every else f'{tried_updates} of {len(host.pending)}'} already running without "
                       f"a new problem on {', '.join(sorted(tried)[:3])}")
    if host.labels.get("users") == "many":
        risk += 1
        reasons.append("many users affected (users=many)")
    recovery = host.labels.get("recovery", "")
    risk += RECOVERY_RISK.get(recovery, 1)
    reasons.append(f"recovery by {recovery}" if recovery in RECOVERY_RISK
                   else "recovery time unknown (no recovery= label)")
    if urgency >= 2 and risk <= 2:
        decision = PATCH_NOW
    elif risk >= 3:
        decision = WINDOW
    else:
        decision = WAIT
    return Decision(host.host, host.address, decision, tuple(reasons), tuple(security), tuple(other),
                    host.next_window if decision == WINDOW else None)


def plan(fleet: Sequence[HostFacts], now: float) -> list[Decision]:
    decided = (decide(host, fleet, now) for host in fleet)
    return sorted((d for d in decided if d is not None), key=lambda d: ([PATCH_NOW, WINDOW, WAIT].index(d.decision),
                                                                         d.host))
