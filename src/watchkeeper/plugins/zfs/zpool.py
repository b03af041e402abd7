"""Parse the `zfs` section: `zpool status`, `zpool list -H` and `zfs get -Hp` of the pools' root datasets.

The agent prints each command's output after a `[zpool status]`, `[zpool list]` or `[zfs get]`
line. `zpool status` is read in both layouts: OpenZFS (`scan:` over up to three lines, sizes
in bytes with `-p`) and the older one of zfs-fuse and Solaris (`scrub:` on one line,
`1.94K` error counts). Nothing here raises on odd input: an unreadable line is skipped.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from watchkeeper.checkapi import AgentSection, StringTable, binary_size

POOL_STATES = frozenset("ONLINE DEGRADED FAULTED OFFLINE UNAVAIL REMOVED SUSPENDED".split())
MARKERS = frozenset(("[zpool status]", "[zpool list]", "[zfs get]", "[zfs snapshots]"))
KEYS = frozenset("pool state status action see scan scrub config errors".split())
GROUPS = frozenset("logs cache spares special dedup".split())
# Bounded digit runs that cannot start inside a longer run: a `scan:` line of 20,000 digits
# took seconds with `\d+` (every start position re-read the whole run).
_DURATION = re.compile(r"(?<!\d)(?:(\d{1,9}) days? )?(?:(\d{1,9}):(\d\d):(\d\d)|(\d{1,9})h(\d{1,9})m)")


size = binary_size
"""`123`, `1.94K`, `90.6M` (powers of 1024 as zfs prints them); None for `-` or junk."""


def duration(text: str) -> float | None:
    """`02:03:04`, `1 days 02:03:04` (OpenZFS) or `0h12m` (older releases), in seconds."""
    found = _DURATION.search(text)
    if found is None:
        return None
    days = int(found.group(1) or 0)
    if found.group(2) is not None:
        hours, minutes, seconds = int(found.group(2)), int(found.group(3)), int(found.group(4))
    else:
        hours, minutes, seconds = int(found.group(5)), int(found.group(6)), 0
    return days * 86400.0 + hours * 3600.0 + minutes * 60.0 + seconds


def timestamp(text: str) -> float | None:
    """`Sun Oct 20 17:29:34 2024` in the host's local time, as zpool prints it."""
    try:
        return time.mktime(time.strptime(" ".join(text.split()[-5:]), "%a %b %d %H:%M:%S %Y"))
    except (ValueError, OverflowError):
        return None


@dataclass(slots=True)
class Device:
    name: str
    state: str
    read: float
    write: float
    cksum: float
    depth: int
    group: str = ""
    """`logs`, `cache`, `spares`, `special` or `dedup` for the devices under such a line."""
    note: str = ""
    leaf: bool = True


@dataclass(slots=True)
class Scan:
    kind: str
    """`scrub` or `resilver`."""
    running: bool
    percent_done: float | None = None
    seconds_to_go: float | None = None
    finished_at: float | None = None
    errors: int = 0
    canceled: bool = False
    text: str = ""


@dataclass(slots=True)
class Pool:
    name: str
    state: str = ""
    status: str = ""
    action: str = ""
    scan: Scan | None = None
    never_scrubbed: bool = False
    devices: list[Device] = field(default_factory=list)
    data_errors: int = 0
    errors_text: str = ""
    size_bytes: float | None = None
    allocated_bytes: float | None = None
    used_bytes: float | None = None
    """From the root dataset: what users can store, after parity and reservations."""
    available_bytes: float | None = None
    compressratio: float | None = None


@dataclass(slots=True)
class Snapshots:
    """One dataset's snapshots."""

    count: int = 0
    newest: str = ""
    newest_created: float | None = None
    used_bytes: float = 0.0
    unread: int = 0
    """Snapshots whose creation time could not be read."""


@dataclass(slots=True)
class Zfs:
    pools: dict[str, Pool] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    snapshots: dict[str, Snapshots] | None = None
    """Per dataset that has any; None where they were not listed (Checkmk's agent, an older agent)."""


def parse_zfs(table: StringTable) -> Zfs | None:
    blocks: dict[str, list[str]] = {}
    errors: list[str] = []
    name = "zpool status"  # a bare `zpool status` output, as tests feed real outputs
    for row in table:
        line = row[0] if row else ""
        if line.strip() in MARKERS:
            name = line.strip()[1:-1]
            blocks.setdefault(name, [])
        elif line.startswith("watchkeeper-error:"):
            errors.append(f"{name}: {line.split(':', 1)[1].strip()}")
        else:
            blocks.setdefault(name, []).append(line)
    if not blocks:
        return None
    zfs = Zfs(errors=errors)
    for pool in parse_status(blocks.get("zpool status", [])):
        zfs.pools[pool.name] = pool
    for line in blocks.get("zpool list", []):
        _read_list_line(zfs, line)
    for line in blocks.get("zfs get", []):
        _read_get_line(zfs, line)
    if "zfs snapshots" in blocks:
        zfs.snapshots = {}
        for line in blocks["zfs snapshots"]:
            _read_snapshot_line(zfs.snapshots, line)
    return zfs


def _read_snapshot_line(snapshots: dict[str, Snapshots], line: str) -> None:
    """`DATASET@NAME<TAB>CREATION<TAB>USED`, epoch seconds and bytes (`-` where unknown)."""
    fields = line.split("\t")
    if len(fields) < 3 or "@" not in fields[0]:
        return
    dataset, _, name = fields[0].partition("@")
    found = snapshots.setdefault(dataset, Snapshots())
    found.count += 1
    used = size(fields[2])
    found.used_bytes += used or 0.0
    created = size(fields[1])
    if created is None:
        found.unread += 1
    elif found.newest_created is None or created > found.newest_created:
        found.newest, found.newest_created = name, created


def parse_status(lines: list[str]) -> list[Pool]:
    pools: list[Pool] = []
    pool: Pool | None = None
    key = ""
    in_config = False
    group = ""
    for line in lines:
        stripped = line.strip()
        if not stripped:
            continue
        head, colon, rest = stripped.partition(":")
        if colon and not line.startswith("\t") and head in KEYS:
            key = head
            rest = rest.strip()
            if key == "pool":
                pool = Pool(rest)
                pools.append(pool)
                in_config = False
                continue
            if pool is None:
                continue
            in_config = key == "config"
            if key == "state":
                pool.state = rest.upper()
            elif key in ("status", "action"):
                setattr(pool, key, rest)
            elif key in ("scan", "scrub"):
                pool.scan, pool.never_scrubbed = None, False
                _read_scan(pool, rest)
            elif key == "errors":
                _read_errors(pool, rest)
            continue
        if pool is None:
            continue
        if in_config:
            group = _read_device(pool, line, group)
        elif key in ("status", "action"):
            setattr(pool, key, f"{getattr(pool, key)} {stripped}".strip())
        elif key in ("scan", "scrub"):
            _read_scan(pool, stripped)
    for pool in pools:
        _mark_leaves(pool)
    return pools


def _read_device(pool: Pool, line: str, group: str) -> str:
    tokens = line.split()
    if not tokens or tokens[0] == "NAME":
        return group
    depth = len(line) - len(line.lstrip())
    if len(tokens) == 1 and tokens[0] in GROUPS:
        return tokens[0]
    name = tokens[0]
    if pool.devices and depth <= pool.devices[0].depth:  # back at the pool's level: the group ended
        group = ""
    if len(tokens) >= 5 and all(size(value) is not None for value in tokens[2:5]):
        counts = [size(value) or 0.0 for value in tokens[2:5]]
        pool.devices.append(Device(name, tokens[1].upper(), counts[0], counts[1], counts[2], depth, group,
                                   " ".join(tokens[5:])))
    elif len(tokens) >= 2:  # spares (`AVAIL`, `INUSE`) and devices with no counters
        pool.devices.append(Device(name, tokens[1].upper(), 0.0, 0.0, 0.0, depth, group, " ".join(tokens[2:])))
    return group


def _mark_leaves(pool: Pool) -> None:
    for index, device in enumerate(pool.devices):
        following = pool.devices[index + 1] if index + 1 < len(pool.devices) else None
        device.leaf = following is None or following.depth <= device.depth
    if pool.devices and pool.devices[0].name == pool.name:
        pool.devices[0].leaf = False


_PERCENT = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,9})?)% done")


def _read_scan(pool: Pool, text: str) -> None:
    scan = pool.scan
    lower = text.lower()
    if scan is None:
        if lower.startswith("none requested"):
            pool.never_scrubbed = True
            return
        kind = "resilver" if "resilver" in lower else "scrub"
        scan = pool.scan = Scan(kind, running="in progress" in lower, text=text)
        scan.canceled = "cancel" in lower
        if not scan.running and " on " in text:
            scan.finished_at = timestamp(text.rsplit(" on ", 1)[1])
        found = re.search(r"with (\d{1,18}) errors", lower)
        if found:
            scan.errors = int(found.group(1))
    else:
        scan.text = f"{scan.text}; {text}"
    found = _PERCENT.search(lower)
    if found:
        scan.percent_done = float(found.group(1))
    if "to go" in lower:
        scan.seconds_to_go = duration(lower.split("done,")[-1] if "done," in lower else lower)


def _read_errors(pool: Pool, text: str) -> None:
    pool.errors_text = text if not pool.errors_text else f"{pool.errors_text}; {text}"
    found = re.match(r"(\d{1,18}) data errors", text)
    if found:
        pool.data_errors = int(found.group(1))


def _read_list_line(zfs: Zfs, line: str) -> None:
    """`zpool list -H[p]`: the name first, then size, allocated and free in that order in every
    column set seen (the default one of each release, and the agent's `-o name,size,allocated,free,health`)."""
    fields = line.split("\t") if "\t" in line else line.split()
    if len(fields) < 2 or fields[0] == "NAME":
        return
    pool = zfs.pools.get(fields[0])
    if pool is None:
        pool = zfs.pools[fields[0]] = Pool(fields[0])
    health = next((value for value in fields[1:] if value in POOL_STATES), None)
    numbers = [size(value) for value in fields[1:6] if value != health]
    if len(numbers) >= 3 and None not in numbers[:3]:
        pool.size_bytes, pool.allocated_bytes = numbers[0], numbers[1]
    if health and not pool.state:
        pool.state = health


def _read_get_line(zfs: Zfs, line: str) -> None:
    """`zfs get -Hp used,available,compressratio POOL…`: NAME PROPERTY VALUE SOURCE."""
    fields = line.split("\t")
    if len(fields) < 3:
        return
    pool = zfs.pools.get(fields[0])
    if pool is None:
        return
    name, value = fields[1], fields[2]
    if name == "used":
        pool.used_bytes = size(value)
    elif name == "available":
        pool.available_bytes = size(value)
    elif name == "compressratio":
        pool.compressratio = size(value.rstrip("x"))


zfs_section = AgentSection("zfs", parse_zfs)
