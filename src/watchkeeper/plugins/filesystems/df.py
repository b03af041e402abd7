"""Filesystem space and inodes from `<<<df>>>` (`df -PTlk` without its header, then inodes).

    /dev/vda                ext4       264212084 23226328  83164584      22% /
    [df_inodes_start]
    /dev/vda                ext4     16777216 411973 16365243    3% /
    [df_inodes_end]

Columns: device, type, size, used, available (KiB or inodes), use%, mount point. Device
names and mount points may contain spaces, so the numeric columns anchor the split. The
Checkmk agent leaves ZFS out of `<<<df>>>` and sends it in `<<<zfsget>>>` after a `[df]` line,
in the same columns; that section is read as a companion.
"""

from __future__ import annotations

from dataclasses import dataclass

from watchkeeper.checkapi import AgentSection, StringTable, to_int

IGNORED_FS_TYPES = frozenset({"tmpfs", "devtmpfs", "ramfs", "squashfs", "iso9660", "overlay", "nsfs"})
"""Filesystems whose fill level says nothing about storage: no service unless a rule asks."""


@dataclass(frozen=True, slots=True)
class Filesystem:
    device: str
    fs_type: str
    size_bytes: int
    used_bytes: int
    avail_bytes: int
    inodes_total: int | None = None
    inodes_used: int | None = None


def _split_df_row(row: list[str]) -> tuple[str, str, int, int, int, str] | None:
    for index in range(1, len(row) - 5):
        numbers = [to_int(field) for field in row[index + 1 : index + 4]]
        if all(n is not None and n >= 0 for n in numbers) and row[index + 4].endswith("%"):
            mountpoint = " ".join(row[index + 5 :])
            if not mountpoint.startswith("/"):
                return None
            size, used, avail = (n or 0 for n in numbers)
            return " ".join(row[:index]), row[index], size, used, avail, mountpoint
    return None


def parse_df(table: StringTable) -> dict[str, Filesystem]:
    space: dict[str, Filesystem] = {}
    inodes: dict[str, tuple[int, int]] = {}
    in_inodes = False
    for row in table:
        if row == ["[df_inodes_start]"]:
            in_inodes = True
            continue
        if row in (["[df_inodes_end]"], ["<<<zfsget>>>"]):
            in_inodes = False  # Checkmk's <<<zfsget>>> carries `df -PTlk -t zfs` after a `[df]` line
            continue
        fields = _split_df_row(row)
        if fields is None:
            continue
        device, fs_type, size, used, avail, mountpoint = fields
        if in_inodes:
            inodes.setdefault(mountpoint, (size, used))
        elif mountpoint not in space:
            space[mountpoint] = Filesystem(device, fs_type, size * 1024, used * 1024, avail * 1024)
    for mountpoint, (total, used) in inodes.items():
        fs = space.get(mountpoint)
        if fs is not None and total > 0:
            space[mountpoint] = Filesystem(fs.device, fs.fs_type, fs.size_bytes, fs.used_bytes,
                                           fs.avail_bytes, total, used)
    return space


df_section = AgentSection("df", parse_df, companions=("zfsget",))
