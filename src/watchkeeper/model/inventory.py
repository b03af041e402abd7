"""Inventory sources: where hosts come from without anyone typing them in.

    piggyback   every host another host's output speaks of (a libvirt or Xen hypervisor's
                domains, an OpenNebula frontend's VMs, any `<<<<host>>>>` block), from source
                hosts whose names match `from`; each gets address `piggyback` and the labels
                `hypervisor` (its source host) and those its data carries.
    file        the hosts listed in a YAML or CSV file (`path`), read again when it changes.

A host a source created is the source's: it is changed when the source's view of it changes,
retired (a downtime, no alerts) when the source stops listing it, and removed after
`grace_s`, its history kept. A host someone else made is never touched.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any

from watchkeeper.errors import ConfigError
from watchkeeper.model.hosts import DEFAULT_INTERVAL_S, HostConfig

KINDS = ("piggyback", "file")
DEFAULT_GRACE_S = 86400.0
SOURCE_LABEL = "inventory"
"""Every host a source made carries its source's name in this label (rules can select them)."""


@dataclass(frozen=True, slots=True)
class InventorySource:
    name: str
    kind: str
    source_hosts: str = "*"
    """`piggyback`: a glob of the hosts whose piggyback data makes hosts."""
    path: str = ""
    """`file`: the YAML or CSV file."""
    labels: dict[str, str] = field(default_factory=dict)
    """Added to every host of this source."""
    interval_s: float = DEFAULT_INTERVAL_S
    grace_s: float = DEFAULT_GRACE_S

    def __post_init__(self) -> None:
        if not self.name or len(self.name) > 100 or not self.name.replace("-", "").replace("_", "").isalnum():
            raise ConfigError(f"inventory source name {self.name!r}: use letters, digits, '-' and '_'")
        if self.kind not in KINDS:
            raise ConfigError(f"inventory source {self.name}: kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.kind == "file" and not self.path.startswith("/"):
            raise ConfigError(f"inventory source {self.name}: a file source needs an absolute path")
        if not 1.0 <= self.interval_s <= 86400.0:
            raise ConfigError(f"inventory source {self.name}: interval {self.interval_s:g}s is outside 1s..1 day")
        if not 0.0 <= self.grace_s <= 366 * 86400.0:
            raise ConfigError(f"inventory source {self.name}: grace period {self.grace_s:g}s is outside 0..366 days")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in self.labels.items()):
            raise ConfigError(f"inventory source {self.name}: labels are text")

    def takes_from(self, host: str) -> bool:
        return fnmatch.fnmatchcase(host, self.source_hosts)

    def settings(self) -> dict[str, Any]:
        return {"source_hosts": self.source_hosts, "path": self.path, "labels": self.labels,
                "interval_s": self.interval_s, "grace_s": self.grace_s}

    @classmethod
    def from_settings(cls, name: str, kind: str, settings: dict[str, Any]) -> InventorySource:
        known = {"source_hosts", "path", "labels", "interval_s", "grace_s"}
        unknown = set(settings) - known
        if unknown:
            raise ConfigError(f"inventory source {name}: unknown setting(s) {', '.join(sorted(unknown))}")
        try:
            return cls(name, kind, **settings)
        except TypeError as exc:
            raise ConfigError(f"inventory source {name}: {exc}") from None


Configured = tuple[str, float, dict[str, Any]]
"""A host as stored: address, interval, options. (Not a `HostConfig`: checking 10,000 hosts'
options again on every sync was most of a sync that changes nothing.)"""


def configured(config: HostConfig) -> Configured:
    return config.uri, config.interval_s, config.options


@dataclass(frozen=True, slots=True)
class Owned:
    """A host a source made, as the store keeps it."""

    host: str
    source: str
    retired: float | None
    """When its source stopped listing it; None while listed."""


@dataclass(frozen=True, slots=True)
class Change:
    action: str
    """`create`, `update`, `retire`, `return` (listed again while retired), `remove`, or
    `conflict` (a host of that name exists and is not this source's: left alone)."""
    host: str
    source: str
    detail: str = ""
    config: HostConfig | None = None
    """The host as it should be (create, update, return)."""


def plan(source: InventorySource, desired: dict[str, HostConfig], owned: dict[str, Owned],
         existing: dict[str, Configured], now: float) -> list[Change]:
    """What makes the store match `desired` for `source`: a pure function, shown by
    `watchkeeper inventory sync --dry-run` and applied as it is otherwise.

    `owned`: every host any source made; `existing`: every host configured."""
    changes: list[Change] = []
    name = source.name
    for host, config in desired.items():
        mine = owned.get(host)
        current = existing.get(host)
        if current is None:
            if mine is None or mine.source == name:
                changes.append(Change("create", host, name, _describe(config), config))
            continue
        if mine is None or mine.source != name:
            changes.append(Change("conflict", host, name, "a host of this name exists and is "
                                  + (f"inventory source {mine.source}'s" if mine else "not from an inventory")))
            continue
        if mine.retired is not None:
            changes.append(Change("return", host, name, "listed by its source again", config))
        elif current != configured(config):
            changes.append(Change("update", host, name, _difference(current, configured(config)), config))
    for host, mine in owned.items():
        if mine.source != name or host in desired:
            continue
        if host not in existing:
            changes.append(Change("forget", host, name, "removed by hand; made again if its source lists it"))
        elif mine.retired is None:
            changes.append(Change("retire", host, name, f"its source no longer lists it; removed after "
                                  f"{_days(source.grace_s)} unless it comes back"))
        elif now - mine.retired >= source.grace_s:
            changes.append(Change("remove", host, name,
                                  f"retired for {_days(now - mine.retired)}; its history is kept"))
    return changes


def _describe(config: HostConfig) -> str:
    labels = config.opts.labels
    return f"{config.uri}, every {config.interval_s:g}s" + (
        ", labels " + ", ".join(f"{k}={v}" for k, v in sorted(labels.items())) if labels else "")


def _difference(before: Configured, after: Configured) -> str:
    parts = []
    if before[0] != after[0]:
        parts.append(f"address {before[0]} -> {after[0]}")
    if before[1] != after[1]:
        parts.append(f"interval {before[1]:g}s -> {after[1]:g}s")
    old, new = before[2].get("labels") or {}, after[2].get("labels") or {}
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            parts.append(f"label {key}: {old.get(key, '(none)')} -> {new.get(key, '(none)')}")
    if not parts:
        parts.append("options changed")
    return ", ".join(parts)


def _days(seconds: float) -> str:
    if seconds >= 86400 and seconds % 86400 == 0:
        return f"{seconds / 86400:g} d"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds:.0f} s"
