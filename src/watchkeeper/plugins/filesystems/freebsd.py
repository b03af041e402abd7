"""Filesystem space and inodes on FreeBSD, from `<<<freebsd_df>>>`: `df -Pkl`, `df -kil` and
`mount -p` (FreeBSD's df prints no type column; mount -p gives each mount point's type).

    [df]
    Filesystem      1024-blocks    Used   Avail Capacity  Mounted on
    /dev/gpt/rootfs     5061648 2466536 2190184    53%    /
    [inodes]
    Filesystem      1K-blocks    Used   Avail Capacity iused  ifree %iused  Mounted on
    /dev/gpt/rootfs   5061648 2466536 2190184    53%   30615 691687    4%   /
    [mounts]
    /dev/gpt/rootfs		/			ufs	rw		1 1

The block size is read from the header (`1024-blocks`, `1K-blocks`, `512-blocks`): FreeBSD's df
applies `-P` and `-k` in order, and `-P` alone means 512-byte blocks.
Kernel and stacked filesystems (devfs, fdescfs, procfs, nullfs, ...) are left out: their fill
says nothing about storage. msdosfs and ZFS have no inode table to report (0 inodes): no inode use.
"""

from __future__ import annotations

import re

from watchkeeper.checkapi import AgentSection, StringTable, to_int
from watchkeeper.plugins.filesystems.df import Filesystem

_BLOCKS = re.compile(r"\b(\d{1,7})(K?)-blocks\b")
PSEUDO_FS = frozenset({"devfs", "fdescfs", "procfs", "linprocfs", "linsysfs", "nullfs", "unionfs", "autofs",
                       "mqueuefs", "tmpfs", "cd9660"})


def _blocks(row: str) -> tuple[str, list[int], str] | None:
    """`device size used avail cap% [iused ifree %iused] mountpoint` -> (device, numbers, mountpoint);
    the numbers anchor the split, since device names and mount points may hold spaces."""
    fields = row.split()
    for index in range(1, len(fields) - 4):
        numbers = [to_int(field) for field in fields[index:index + 3]]
        if not (all(n is not None and n >= 0 for n in numbers) and fields[index + 3].endswith("%")):
            continue
        rest = fields[index + 4:]
        if len(rest) >= 4 and to_int(rest[0]) is not None and to_int(rest[1]) is not None:
            numbers += [to_int(rest[0]) or 0, to_int(rest[1]) or 0]
            rest = rest[3:]  # iused, ifree, %iused
        mountpoint = " ".join(rest)
        if not mountpoint.startswith("/"):
            return None
        return " ".join(fields[:index]), [n or 0 for n in numbers], mountpoint
    return None


def _block_size(lines: list[str]) -> int:
    """Bytes per block from df's header; KiB when there is no header."""
    for line in lines[:1]:
        found = _BLOCKS.search(line)
        if found is not None:
            return int(found.group(1)) * (1024 if found.group(2) else 1) or 1024
    return 1024


def _blocks_of(table: StringTable) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for row in table:
        line = row[0] if row else ""
        if line in ("[df]", "[inodes]", "[mounts]"):
            current = found.setdefault(line[1:-1], [])
        elif current is not None:
            current.append(line)
    return found


def parse_freebsd_df(table: StringTable) -> dict[str, Filesystem]:
    blocks = _blocks_of(table)
    types: dict[str, str] = {}
    for line in blocks.get("mounts", []):
        fields = line.split()
        if len(fields) >= 4:
            types[fields[1]] = fields[2]
    inodes: dict[str, tuple[int, int]] = {}
    for line in blocks.get("inodes", []):
        parsed = _blocks(line)
        if parsed is not None and len(parsed[1]) == 5:
            used, free = parsed[1][3], parsed[1][4]
            inodes.setdefault(parsed[2], (used + free, used))
    space: dict[str, Filesystem] = {}
    block = _block_size(blocks.get("df", []))
    for line in blocks.get("df", []):
        parsed = _blocks(line)
        if parsed is None:
            continue
        device, (size, used, avail, *_), mountpoint = parsed
        fs_type = types.get(mountpoint, "")
        if fs_type in PSEUDO_FS or mountpoint in space:
            continue
        total_inodes, used_inodes = inodes.get(mountpoint, (0, 0))
        space[mountpoint] = Filesystem(device, fs_type, size * block, used * block, avail * block,
                                       total_inodes or None, used_inodes if total_inodes else None)
    return space


freebsd_df_section = AgentSection("freebsd_df", parse_freebsd_df, parsed_section="df")
