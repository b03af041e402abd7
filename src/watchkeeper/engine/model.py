"""Plain records that pass between the engine, the scheduler and the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from watchkeeper.checkapi import Metric

PENDING = -1
"""Service state before its first verdict (counters seen once); stored like the others."""

STATE_NAMES = {PENDING: "PENDING", 0: "OK", 1: "WARN", 2: "CRIT", 3: "UNKNOWN"}

AGENT_SERVICE = "Agent"
DISCOVERY_SERVICE = "Service discovery"


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """A monitored service as accepted by discovery."""

    name: str
    plugin: str
    item: str
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Outcome:
    """One service's result in one cycle."""

    name: str
    state: int
    summary: str
    details: str = ""
    metrics: list[Metric] = field(default_factory=list)
    stale: bool = False


@dataclass(slots=True)
class HostCycle:
    """Everything one host's cycle produced, handed to the store in one piece."""

    host: str
    started: float
    up: bool
    error: str
    outcomes: list[Outcome]
    value_stores: dict[str, dict[str, Any]] = field(default_factory=dict)
    partial: bool = False
    """Only these services' results (active or passive checks); says nothing about the host."""
