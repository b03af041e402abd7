"""Comparing what discovery finds with what is monitored."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from watchkeeper.collect.sections import split_sections
from watchkeeper.engine.catalog import Catalog, builtin_catalog
from watchkeeper.engine.checking import discover_services, parse_host
from watchkeeper.model.cycles import ServiceSpec
from watchkeeper.model.rules import Rule


@dataclass(slots=True)
class DiscoveryDiff:
    new: list[ServiceSpec] = field(default_factory=list)
    vanished: list[ServiceSpec] = field(default_factory=list)
    changed: list[tuple[ServiceSpec, ServiceSpec]] = field(default_factory=list)
    """(monitored, found) pairs whose discovered facts differ, such as a disk's serial."""
    unchanged: int = 0
    ignored: list[ServiceSpec] = field(default_factory=list)
    """Found, and ignored on purpose (`Store.ignore_services`): never offered as new."""


def discover_in_output(data: bytes, host: str = "", catalog: Catalog | None = None,
                       rules: Sequence[Rule] = ()) -> list[ServiceSpec]:
    """`rules`: the host's rules, for checks whose items rules name (processes)."""
    catalog = builtin_catalog() if catalog is None else catalog
    return discover_services(catalog.plugins, parse_host(catalog, split_sections(data), host), host, rules)


def diff_services(monitored: Sequence[ServiceSpec], found: Sequence[ServiceSpec],
                  ignored: Collection[str] = ()) -> DiscoveryDiff:
    diff = DiscoveryDiff()
    known = {spec.name: spec for spec in monitored}
    seen = {spec.name for spec in found}
    for spec in found:
        before = known.get(spec.name)
        if before is None and spec.name in ignored:
            diff.ignored.append(spec)
        elif before is None:
            diff.new.append(spec)
        elif before.facts != spec.facts or before.plugin != spec.plugin:
            diff.changed.append((before, spec))
        else:
            diff.unchanged += 1
    diff.vanished = [spec for spec in monitored if spec.name not in seen]
    return diff
