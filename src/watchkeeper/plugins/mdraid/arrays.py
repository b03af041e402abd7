"""One service per md array: how much redundancy is left, who failed, how long a rebuild takes.

State follows the redundancy left, not only the word "degraded": a RAID 6 that lost one
disk can lose one more (WARN); a RAID 1, 5 or 10 that lost one, or a RAID 6 that lost two,
cannot lose anything more (CRIT), rebuilding or not, until the rebuild is done.
"""

from __future__ import annotations

from watchkeeper.checkapi import (
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    Metric,
    NoParams,
    Result,
    Service,
    State,
    ValueStore,
    render,
)
from watchkeeper.plugins.mdraid.mdstat import Array

TOLERATES = {"raid1": None, "raid4": 1, "raid5": 1, "raid6": 2, "raid10": 1}
"""Disks an array survives losing; None: all but one (a RAID 1 of n disks). RAID 10 is taken at
its weakest: two copies, one loss per mirror."""


def discover_arrays(section: dict[str, Array]) -> DiscoveryResult:
    for name, array in section.items():
        if not array.container:
            yield Service(name)


def check_array(item: str, params: NoParams, section: dict[str, Array], store: ValueStore, now: float) -> CheckResult:
    array = section.get(item)
    if array is None:
        yield Result(State.CRIT, f"{item} is not in /proc/mdstat any more",
                     details="Stopped on purpose? Run service discovery with --remove-vanished.")
        return
    failed = ", ".join(f"{member.name} failed" for member in array.failed())
    if not array.active:
        yield Result(State.CRIT, "inactive: the array is not running" + (f" ({failed})" if failed else ""),
                     details="Members: " + " ".join(f"{m.name}[{m.slot}]({m.flags})" if m.flags else m.name
                                                   for m in array.members))
        return
    yield from _redundancy(array, failed)
    yield from _progress(array)
    spares = [member.name for member in array.spares()]
    notes = [f"level {array.level or 'unknown'}", f"{len(array.members)} members"]
    if spares:
        notes.append(f"spares: {', '.join(spares)}")
    if array.read_only:
        notes.append(array.read_only)
    if array.waiting:
        notes.append(array.waiting)
    yield Result(State.OK, "", details="; ".join(notes))


def _redundancy(array: Array, failed: str) -> CheckResult:
    yield Metric("md_missing_disks", array.missing)
    if array.total is None:  # raid0, linear: no [n/m]; a failed member takes the whole array
        state = State.CRIT if failed else State.OK
        yield Result(state, f"{array.level or 'array'} without redundancy" + (f": {failed}" if failed else ""))
        return
    shape = f"[{array.total}/{array.up}] [{array.slots}]"
    if not array.missing:
        yield Result(State.CRIT if failed else State.OK, f"{shape} all disks up" + (f", {failed}" if failed else ""))
        return
    tolerated = TOLERATES.get(array.level, 0)
    tolerated = array.total - 1 if tolerated is None else tolerated
    left = tolerated - array.missing
    empty = [str(index) for index, slot in enumerate(array.slots) if slot == "_"]
    where = f"slot{'s' if len(empty) > 1 else ''} {', '.join(empty)} empty"
    what = f"degraded {shape}: {failed or where}"
    if left <= 0:
        yield Result(State.CRIT, f"{what}, no redundancy left")
    else:
        yield Result(State.WARN, f"{what}, can lose {left} more")
    yield Metric("md_redundancy_left", max(left, 0))


def _progress(array: Array) -> CheckResult:
    if array.percent_done is None:
        return
    text = f"{array.action} {render.percent(array.percent_done)}"
    if array.action == "recovery" and array.total is not None:  # the member being rebuilt has a slot past the end
        rebuilding = [m.name for m in array.members if m.slot >= array.total and not {"S", "F"} & set(m.flags)]
        text += f" onto {', '.join(rebuilding)}" if rebuilding else ""
    if array.minutes_left is not None:
        text += f", done in about {render.timespan(array.minutes_left * 60.0)}"
        yield Metric("md_sync_eta_seconds", array.minutes_left * 60.0)
    if array.speed_kib_s is not None:
        text += f" at {render.bytes_per_second(array.speed_kib_s * 1024.0)}"
    yield Metric("md_sync_percent_done", array.percent_done)
    yield Result(State.OK, text)


md_arrays = CheckPlugin(
    name="md_array",
    section="mdstat",
    title="MD RAID %s",
    discover=discover_arrays,
    check=check_array,
    default_params=NoParams(),
)
