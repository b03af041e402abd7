"""The Checkmk agent's ZFS sections, read into the same `Zfs` value as ours:

    <<<zpool_status>>>          `zpool status -x`, split at whitespace
      pool: tank
     state: DEGRADED
    ...
    <<<zpool>>>                 `zpool list` with its header line
    NAME      SIZE  ALLOC   FREE    CAP  DEDUP  HEALTH  ALTROOT
    <<<zfsget:sep(9)>>>         `zfs get -Hp name,quota,used,avail,mountpoint,type`
    <<<zfsget>>>
    [df]                        `df -PTlk -t zfs`

Without `sep()` the splitter drops indentation, which `zpool status` uses to nest devices
under their vdev. It is put back from the names: the pool's own line, then a vdev such as
`mirror-0`, `raidz2-0` or `draid1:...` with the disks after it, until the next vdev or a
`logs`/`cache`/`spares` group; the disks after a `replacing-N` or `spare-N` are read as its
own until the next vdev. A disk listed directly under the pool after a vdev (a mixed pool) is
read as part of that vdev: rare, and it errs towards naming a disk, not towards hiding one.
"""

from __future__ import annotations

import re

from watchkeeper.checkapi import AgentSection, StringTable
from watchkeeper.plugins.zfs.zpool import GROUPS, KEYS, Zfs, parse_zfs

_VDEV = re.compile(r"^(?:mirror|raidz[123]?|draid[123]?|replacing|spare)(?:[-:].*)?$")
_INNER = re.compile(r"^(?:replacing|spare)(?:-\d+)?$")


def parse_checkmk_zpool(table: StringTable) -> Zfs | None:
    blocks: dict[str, list[list[str]]] = {"zpool_status": []}
    current = "zpool_status"
    for row in table:
        if len(row) == 1 and row[0].startswith("<<<") and row[0].endswith(">>>"):
            current = row[0][3:-3]
            blocks.setdefault(current, [])
        else:
            blocks.setdefault(current, []).append(row)
    lines = ["[zpool status]", *_status_lines(blocks["zpool_status"]), "[zpool list]"]
    lines.extend(" ".join(row) for row in blocks.get("zpool", []))
    lines.append("[zfs get]")
    lines.extend("\t".join(row) for row in blocks.get("zfsget", []) if len(row) >= 3 and "\t" not in row[0])
    zfs = parse_zfs([[line] for line in lines])
    if zfs is None or (not zfs.pools and not any(blocks.get(name) for name in ("zpool_status", "zpool"))):
        return None
    return zfs


def _status_lines(rows: list[list[str]]) -> list[str]:
    """Rows of words back into `zpool status` lines, indentation rebuilt for the config block."""
    lines: list[str] = []
    in_config = False
    pool = ""
    inside_vdev = False
    inside_inner = False
    for row in rows:
        if not row:
            continue
        head = row[0]
        if head.endswith(":") and head[:-1] in KEYS:
            key = head[:-1]
            in_config = key == "config"
            if key == "pool":
                pool = " ".join(row[1:])
            lines.append(f" {' '.join(row)}")
            continue
        if not in_config:
            lines.append("\t" + " ".join(row))  # a status or action line continued
            continue
        if head == "NAME":
            lines.append("\t" + " ".join(row))
        elif head == pool:
            lines.append("\t" + " ".join(row))
            inside_vdev = inside_inner = False
        elif head in GROUPS and len(row) == 1:
            lines.append("\t" + head)
            inside_vdev = inside_inner = False
        elif _INNER.match(head) and inside_vdev:
            lines.append("\t    " + " ".join(row))
            inside_inner = True
        elif _VDEV.match(head):
            lines.append("\t  " + " ".join(row))
            inside_vdev, inside_inner = True, False
        else:
            depth = 6 if inside_inner else 4 if inside_vdev else 2
            lines.append("\t" + " " * depth + " ".join(row))
    return lines


zpool_status_section = AgentSection("zpool_status", parse_checkmk_zpool, parsed_section="zfs",
                                    companions=("zpool", "zfsget"))
