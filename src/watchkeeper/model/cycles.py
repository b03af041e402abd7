"""A host's check cycle as it passes from the engine through the results sink to the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from watchkeeper.model.verdicts import Metric

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
