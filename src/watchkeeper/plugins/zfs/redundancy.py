"""How many more disks a pool can lose: per top-level vdev, from its kind and its members' states.

    tank          DEGRADED
      mirror-0    DEGRADED        a mirror of n survives n-1 losses: 1 of 2 gone, 0 left
        d1        ONLINE
        d2        OFFLINE
      raidz2-0    ONLINE          raidz2 (and draid2) survive 2 losses per vdev
        ...

A pool is only as safe as its weakest data vdev. Log devices hold only the last seconds of
synchronous writes, and cache and spare devices no data at all: their failures are reported,
but they do not take redundancy from the data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from watchkeeper.plugins.zfs.zpool import Device, Pool

HEALTHY = frozenset(("ONLINE", "AVAIL", "INUSE"))
DATA_GROUPS = frozenset(("", "special", "dedup"))
_RAIDZ = re.compile(r"^(?:raidz|draid)([123])?(?:[-:]|$)")


@dataclass(slots=True)
class Vdev:
    device: Device
    group: str
    members: list[Device] = field(default_factory=list)
    """The children that carry its copies or parity (a `replacing-N` or `spare-N` counts as one)."""

    @property
    def tolerates(self) -> int:
        """Members it can lose and still serve every block."""
        name = self.device.name
        if not self.members:
            return 0  # a single disk
        if name.startswith("mirror"):
            return len(self.members) - 1
        found = _RAIDZ.match(name)
        if found:
            return int(found.group(1) or 1)
        return 0  # a kind we do not know: assume no redundancy rather than invent some

    @property
    def failed(self) -> list[Device]:
        if not self.members:
            return [] if self.device.state in HEALTHY else [self.device]
        return [member for member in self.members if member.state not in HEALTHY]

    @property
    def left(self) -> int:
        return self.tolerates - len(self.failed)


def top_level_vdevs(pool: Pool) -> list[Vdev]:
    """The pool's top-level vdevs with their direct members, from the device tree's indentation."""
    devices = pool.devices
    if not devices:
        return []
    root_depth = devices[0].depth if devices[0].name == pool.name else None
    body = devices[1:] if root_depth is not None else devices
    top_depth = min((d.depth for d in body if d.depth > (root_depth if root_depth is not None else -1)),
                    default=0)
    vdevs: list[Vdev] = []
    current: Vdev | None = None
    member_depth: int | None = None
    for device in body:
        if device.depth <= top_depth:
            current = Vdev(device, device.group)
            vdevs.append(current)
            member_depth = None
        elif current is not None:
            if member_depth is None:
                member_depth = device.depth
            if device.depth == member_depth:
                current.members.append(device)
    return vdevs


@dataclass(frozen=True, slots=True)
class Verdict:
    left: int | None
    """Disks the weakest degraded data vdev can still lose; None when no data vdev lost one."""
    weakest: Vdev | None
    data_failures: list[tuple[Vdev, Device]]
    other_failures: list[tuple[Vdev, Device]]
    """Failed log, cache and spare devices."""


def judge(pool: Pool) -> Verdict:
    data: list[tuple[Vdev, Device]] = []
    other: list[tuple[Vdev, Device]] = []
    weakest: Vdev | None = None
    for vdev in top_level_vdevs(pool):
        failed = vdev.failed
        if not failed:
            continue
        if vdev.group in DATA_GROUPS:
            data.extend((vdev, device) for device in failed)
            if weakest is None or vdev.left < weakest.left:
                weakest = vdev
        else:
            other.extend((vdev, device) for device in failed)
    return Verdict(weakest.left if weakest is not None else None, weakest, data, other)
