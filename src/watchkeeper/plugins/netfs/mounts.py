"""Network mounts and whether they answer, from the Checkmk agent's sections:

    <<<nfsmounts_v2:sep(0)>>>    one JSON object per mount (agents 2.1 and newer):
    {"mountpoint": "/mnt/data", "source": "srv:/export", "state": "ok",
     "usage": {"total_blocks": 100, "free_blocks_su": 40, "free_blocks": 30, "blocksize": 4096}}
    <<<nfsmounts>>>              older agents, and <<<cifsmounts>>>:
    /mnt/data ok 100 40 30 4096          (mount point, state, blocks, free, available, block size)
    /mnt/dead hanging 0 0 0 0            (`stat -f` did not answer within its time limit)
    /mnt/share Permission denied         (cifs: not readable by the agent)

A mount point may contain spaces (the agent turns `\\040` into one), so a text line is read
from its end. The agent writes the JSON by pasting the mount point between quotes, so a mount
point with a `"` makes a line that is no JSON; such a line is read by the template's fixed
shape instead. A line that fits neither is named on the `Agent` service.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from watchkeeper.checkapi import AgentSection, StringTable, finite, load_json, to_int


@dataclass(frozen=True, slots=True)
class NetworkMount:
    mountpoint: str
    state: str
    """`ok`, `hanging`, or what the agent said (`Permission denied`)."""
    source: str = ""
    size_bytes: float | None = None
    available_bytes: float | None = None


@dataclass(slots=True)
class NetworkMounts:
    mounts: dict[str, NetworkMount] = field(default_factory=dict)
    unread: list[str] = field(default_factory=list)

    def skip(self, why: str, line: str) -> None:
        if len(self.unread) < MAX_UNREAD:
            self.unread.append(f"{why}: {line[:160]!r}")


MAX_UNREAD = 20
def parse_nfsmounts_v2(table: StringTable) -> NetworkMounts:
    section = NetworkMounts()
    for row in table:
        line = " ".join(row)
        document = load_json(line)
        mount: NetworkMount | None
        if isinstance(document, dict) and isinstance(document.get("mountpoint"), str):
            usage = document["usage"] if isinstance(document.get("usage"), dict) else {}
            mount = _mount(document["mountpoint"], str(document.get("state", "")), str(document.get("source", "")),
                           finite(usage.get("total_blocks")), finite(usage.get("free_blocks")),
                           finite(usage.get("blocksize")))
        else:
            mount = _from_template(line)
        if mount is not None:
            section.mounts[mount.mountpoint] = mount
        elif line.strip():
            section.skip("not a mount in JSON", line)
    return section


def _from_template(line: str) -> NetworkMount | None:
    """The agent's fixed template, read from both ends around the pasted-in mount point and source."""
    head, state_key, rest = line.rpartition('", "state": "')
    head, source_key, source = head.rpartition('", "source": "')
    if not (state_key and source_key and head.startswith('{"mountpoint": "')):
        return None
    usage = load_json("{" + rest.partition(", ")[2])
    state = rest.partition('"')[0]
    if not isinstance(usage, dict) or not isinstance(usage.get("usage"), dict):
        return None
    numbers = usage["usage"]
    return _mount(head[len('{"mountpoint": "'):], state, source, finite(numbers.get("total_blocks")),
                  finite(numbers.get("free_blocks")), finite(numbers.get("blocksize")))


def _mount(point: str, state: str, source: str, total: float | None, avail: float | None,
           block: float | None) -> NetworkMount:
    return NetworkMount(point, state, source, float(total * block) if total is not None and block else None,
                        float(avail * block) if avail is not None and block else None)


def parse_mounts_text(table: StringTable) -> NetworkMounts:
    section = NetworkMounts()
    for row in table:
        if len(row) >= 3 and row[-2:] == ["Permission", "denied"]:
            section.mounts[" ".join(row[:-2])] = NetworkMount(" ".join(row[:-2]), "Permission denied")
        elif len(row) >= 6 and row[-5] in ("ok", "hanging"):
            total, _free, avail, block = (to_int(value) for value in row[-4:])
            point = " ".join(row[:-5])
            section.mounts[point] = _mount(point, row[-5], "", total, avail, block)
        elif row:
            section.skip("not `MOUNTPOINT ok|hanging BLOCKS FREE AVAILABLE BLOCKSIZE`", " ".join(row))
    return section


nfsmounts_v2_section = AgentSection("nfsmounts_v2", parse_nfsmounts_v2, parsed_section="nfsmounts")
nfsmounts_section = AgentSection("nfsmounts", parse_mounts_text)
cifsmounts_section = AgentSection("cifsmounts", parse_mounts_text)
