"""FreeBSD's software RAID: `gmirror status` and `graid status`, judged by the redundancy left.

    [gmirror]
          Name    Status  Components
    mirror/gm0  DEGRADED  ada0 (ACTIVE)
                          ada1 (SYNCHRONIZING, 28%)
    [graid]
       Name    Status  Components
    raid/r0  DEGRADED  ada0 (ACTIVE (ACTIVE))
                       ada1 (ACTIVE (REBUILD 28%))

Both print geom(8)'s status table (sbin/geom/core/geom.c, status_one_geom): the volume and its
state on the first component's line, then one line per component with its state and, while it
is being rebuilt, how far. A component that is still being synchronized holds no complete copy:
a two-disk mirror with one disk synchronizing has no redundancy left (CRIT) until it is done.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from watchkeeper.checkapi import (
    AgentSection,
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    Metric,
    NoParams,
    Result,
    Service,
    State,
    StringTable,
    ValueStore,
    render,
    to_float,
)

_COMPONENT = re.compile(r"^(\S+)(?: \((.*)\))?$")
_PERCENT = re.compile(r"(\d{1,3}(?:\.\d{1,3})?)%")
HEALTHY = {"COMPLETE", "OPTIMAL"}
"""gmirror's COMPLETE and graid's OPTIMAL: every component holds a complete copy."""
BROKEN = {"BROKEN", "FAILED"}


@dataclass(slots=True)
class Component:
    name: str
    state: str
    percent: float | None = None

    @property
    def complete(self) -> bool:
        """Holds a complete copy: `ACTIVE` (gmirror) or `ACTIVE (ACTIVE)` (graid)."""
        return self.state in ("ACTIVE", "ACTIVE (ACTIVE)")


@dataclass(slots=True)
class Volume:
    kind: str
    status: str
    components: list[Component] = field(default_factory=list)


def parse_geom_raid(table: StringTable) -> dict[str, Volume]:
    volumes: dict[str, Volume] = {}
    kind = ""
    current: Volume | None = None
    for row in table:
        line = row[0] if row else ""
        if line in ("[gmirror]", "[graid]"):
            kind, current = line[1:-1], None
            continue
        fields = line.split(None, 2)
        if not kind or not fields or fields[:1] == ["Name"]:
            continue
        if not line[:1].isspace() and len(fields) == 3:  # `mirror/gm0  COMPLETE  ada1 (ACTIVE)`
            current = volumes.setdefault(fields[0], Volume(kind, fields[1]))
            component_text = fields[2]
        elif current is not None:
            component_text = line.strip()
        else:
            continue
        found = _COMPONENT.match(component_text)
        if found is None:
            continue
        state = found.group(2) or ""
        percent = _PERCENT.search(state)
        state = _PERCENT.sub("", state).replace(", ", "").replace(" )", ")").strip(" ,")
        current.components.append(Component(found.group(1), state, to_float(percent.group(1)) if percent else None))
    return volumes


def discover_geom_raid(section: dict[str, Volume]) -> DiscoveryResult:
    for name in section:
        yield Service(name)


def check_geom_raid(item: str, params: NoParams, section: dict[str, Volume], store: ValueStore,
                    now: float) -> CheckResult:
    volume = section.get(item)
    if volume is None:
        yield Result(State.CRIT, f"{item} is no longer listed by `{item.split('/')[0]} status`",
                     details="Stopped on purpose? Run service discovery with --remove-vanished.")
        return
    complete = [c for c in volume.components if c.complete]
    others = [c for c in volume.components if not c.complete]
    listing = ", ".join(f"{c.name} {c.state.lower() or 'no state'}"
                        + (f" {render.percent(c.percent)}" if c.percent is not None else "") for c in others)
    yield Metric("geom_complete_components", len(complete))
    if volume.status in HEALTHY and not others:
        yield Result(State.OK, f"{volume.status.lower()}, {len(complete)} components with complete copies",
                     details=" ".join(c.name for c in complete))
    elif volume.status in BROKEN or not complete:
        yield Result(State.CRIT, f"{volume.status.lower()}: no complete copy is left" + (f" ({listing})" if listing
                                                                                       else ""))
    elif len(complete) == 1:
        yield Result(State.CRIT, f"{volume.status.lower()}: only {complete[0].name} holds a complete copy, "
                                 f"no redundancy left" + (f" ({listing})" if listing else ""))
    else:
        yield Result(State.WARN, f"{volume.status.lower()}: {len(complete)} complete copies, can lose "
                                 f"{len(complete) - 1} more" + (f" ({listing})" if listing else ""))
    for component in others:
        if component.percent is not None:
            yield Metric("geom_rebuild_percent", component.percent)


geom_raid_section = AgentSection("geom_raid", parse_geom_raid)

geom_raid = CheckPlugin(
    name="geom_raid",
    section="geom_raid",
    title="GEOM RAID %s",
    discover=discover_geom_raid,
    check=check_geom_raid,
    default_params=NoParams(),
)
