"""What a check plugin yields: states, results, metrics, and discovered services."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

StringTable = list[list[str]]
"""A section as the splitter hands it to a parser: one list of fields per line."""

JSONScalar = str | int | float | bool | None


class State(enum.IntEnum):
    """Monitoring states with the Nagios numbering (also the exit codes of `watchkeeper check`)."""

    OK = 0
    WARN = 1
    CRIT = 2
    UNKNOWN = 3

    @staticmethod
    def worst(*states: State) -> State:
        """CRIT beats UNKNOWN beats WARN beats OK: a known outage outranks a missing verdict."""
        return max(states, key=SEVERITY.__getitem__, default=State.OK)


SEVERITY = {State.OK: 0, State.WARN: 1, State.UNKNOWN: 2, State.CRIT: 3}
"""Rank of each state, worst highest."""


# Results, metrics and pending notes are made by the hundred per host cycle: a frozen
# dataclass sets each field through object.__setattr__, three times the cost of a plain
# one (1.1 against 0.36 µs a Result). They are treated as values all the same: hashable,
# and never changed after a check yields them.
@dataclass(slots=True, unsafe_hash=True)
class Result:
    """One judgement: a state and a one-line summary; details go to the service page only."""

    state: State
    summary: str
    details: str = ""


@dataclass(slots=True, unsafe_hash=True)
class Metric:
    """A measured value in base units; the unit follows from the name's suffix (see `unit`)."""

    name: str
    value: float
    levels: tuple[float, float] | None = None
    boundaries: tuple[float | None, float | None] | None = None

    @property
    def unit(self) -> str:
        return unit_of(self.name)


@dataclass(slots=True, unsafe_hash=True)
class Pending:
    """No verdict yet, e.g. a counter seen for the first time; the engine shows it as PENDING."""

    summary: str


CheckResult = Iterable[Result | Metric | Pending]


def vanished(what: str, reasons: list[str], fallback: str) -> Result:
    """CRIT for a discovered object that is gone: why (the tool's errors, else `fallback`), and what to do."""
    return Result(State.CRIT, f"{what} is missing: {'; '.join(reasons) or fallback}",
                  details="Gone on purpose? Run service discovery with --remove-vanished.")


@dataclass(frozen=True, slots=True)
class Service:
    """A discovered service: its item ("" for single-instance checks) and facts seen at discovery.

    Facts are plain values that the check later compares against, such as a block device's
    serial number; they are stored with the service and passed to the check as parameters.
    """

    item: str = ""
    facts: Mapping[str, JSONScalar] = field(default_factory=dict)


DiscoveryResult = Iterable[Service]

_UNIT_SUFFIXES = (
    ("_bytes_per_second", "B/s"),
    ("_per_second", "/s"),
    ("_bytes", "B"),
    ("_seconds", "s"),
    ("_percent", "%"),
    ("_total", ""),
)


def unit_of(metric_name: str) -> str:
    """The unit of a metric, from the suffix naming convention (`*_bytes`, `*_seconds`, ...)."""
    for suffix, unit in _UNIT_SUFFIXES:
        if metric_name.endswith(suffix):
            return unit
    return ""
