"""Parse `<<<lizardfs>>>`: a LizardFS master's state from `lizardfs-admin`, into the MooseFS model.

LizardFS is a MooseFS fork: chunkservers, disks and goals are the same ideas, so the state is
read into `MooseFS` (product "LizardFS") and judged by the MooseFS checks. The agent prints
each command's output under a `[command]` line, and `watchkeeper: KEY VALUE` lines of its own
(the master it asked, errors, seconds). It asks for `--porcelain` output; the human form of
`chunks-health` and `info` is read too, as users paste it in bug reports.

A LizardFS master does not print MooseFS's goal/copies matrix. `chunks-health` gives per goal
name the chunks that are safe (they survive one more loss), endangered ("Unsafe": the next
loss loses data) and lost, and how many chunks miss 0, 1, 2... parts (replication) or have
that many parts too many (deletion). From these:
- lost chunks are missing (their data is unreadable);
- endangered chunks that miss no part are single copies their goal asks for (`1`, or a custom
  one-label goal): no redundancy by choice, shown but not an alarm by default;
- the other endangered chunks are endangered;
- safe chunks that miss parts lack replicas (undergoal), safe chunks with parts to delete are
  overgoal.
The parser never raises on odd input; lines it does not know are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from watchkeeper.checkapi import AgentSection, StringTable, binary_size, to_int
from watchkeeper.plugins.moosefs.mfscli import Chunkserver, Disk, GoalCounts, MooseFS

# `info --porcelain`: version, then these figures in this order
_INFO_FIELDS = (
    "memory usage", "total space", "avail space", "trash space", "trash files", "reserved space",
    "reserved files", "fs objects", "directories", "files", "chunks", "all chunk copies", "regular chunk copies",
)
# the human form of `info`: "Total space:\t1.2TiB" (rounded, so read only where porcelain is missing)
_INFO_LABELS = {
    "Memory usage": "memory usage", "Total space": "total space", "Available space": "avail space",
    "Trash space": "trash space", "Trash files": "trash files", "Reserved space": "reserved space",
    "Reserved files": "reserved files", "FS objects": "fs objects", "Directories": "directories",
    "Files": "files", "Chunks": "chunks", "Chunk copies": "all chunk copies",
    "Regular copies": "regular chunk copies",
}


@dataclass(slots=True)
class _Health:
    """One goal's rows of `chunks-health`."""

    availability: tuple[int, int, int] | None = None
    """Safe, endangered, lost."""
    replication: list[int] = field(default_factory=list)
    """Chunks missing 0, 1, 2... parts (the last column is "10 or more")."""
    deletion: list[int] = field(default_factory=list)


def _count(text: str) -> int:
    """A cell of `chunks-health`: a number, or `-` for zero (human form)."""
    text = text.strip()
    return 0 if text == "-" else max(to_int(text) or 0, 0)


def goal_counts(name: str, health: _Health, single_copy_goal: bool) -> GoalCounts:
    safe, endangered, lost = health.availability or (0, 0, 0)
    if health.replication:
        missing_none, missing_some = health.replication[0], sum(health.replication[1:])
        single = min(endangered, max(missing_none - safe, 0))
    else:  # no replication row: only the goal's definition tells a single copy by choice
        missing_some = 0
        single = endangered if single_copy_goal else 0
    endangered -= single
    undergoal = min(max(missing_some - endangered - lost, 0), safe)
    overgoal = min(sum(health.deletion[1:]), safe - undergoal)
    numbered = name.isascii() and name.isdigit() and len(name) < 4
    return GoalCounts(
        goal=int(name) if numbered else name, missing=lost, endangered=endangered,
        undergoal=undergoal, stable=safe - undergoal - overgoal, overgoal=overgoal, single_by_goal=single,
    )


def _single_copy(definition: str) -> bool:
    """A goal definition (`_`, `2: _ _`, `$ec(2,1)`, `$xor3 {A B C D}`) that asks for one copy."""
    body = definition.partition(":")[2] if ":" in definition else definition
    return "$" not in body and len(body.split()) == 1


def _chunkserver(words: list[str]) -> Chunkserver | None:
    # address version chunks used total todel-chunks todel-used todel-total errors label;
    # a disconnected one: "address - 0 0 0 0 0 0 0 -"
    if len(words) < 9 or ":" not in words[0]:
        return None
    numbers = [_count(word) for word in words[2:9]]
    if words[1] == "-":
        return Chunkserver(address=words[0], connected=False, maintenance="off")
    removal = numbers[3]
    return Chunkserver(
        address=words[0], connected=True, maintenance="off", version=words[1], chunks=numbers[0],
        used_bytes=numbers[1], total_bytes=numbers[2],
        removal_status=("READY" if removal == 0 else "NOT READY") if numbers[5] else "-",
        removal_chunks=removal, removal_used_bytes=numbers[4], removal_total_bytes=numbers[5],
    )


def _disk(words: list[str]) -> Disk | None:
    # address path to-delete damaged scanning error-chunk error-time total used chunks [stats...];
    # the path may hold spaces: it ends where the three yes/no flags start
    flags_at = next((index for index in range(2, len(words) - 7)  # three flags and five figures after them
                     if all(word in ("yes", "no") for word in words[index:index + 3])), None)
    if flags_at is None or ":" not in words[0]:
        return None
    to_delete, damaged, scanning = (word == "yes" for word in words[flags_at:flags_at + 3])
    error_chunk, error_time, total, used, chunks = (_count(word) for word in words[flags_at + 3:flags_at + 8])
    status = "damaged" if damaged else "marked for removal" if to_delete else "scanning" if scanning else "ok"
    last_error = f"chunk {error_chunk:016X} at {error_time}" if error_chunk or error_time else "no errors"
    return Disk(server=words[0], path=" ".join(words[1:flags_at]), chunks=chunks, last_error=last_error,
                status=status, used_bytes=used, total_bytes=total)


def _info_porcelain(state: MooseFS, words: list[str]) -> None:
    state.info["master version"] = words[0]
    for key, word in zip(_INFO_FIELDS, words[1:], strict=False):
        state.info[key] = str(_count(word))


def _human_health(line: str, table: str, health: dict[str, _Health]) -> None:
    cells = line.strip().split("\t")
    if len(cells) < 2 or cells[0] == "Goal":
        return
    row = health.setdefault(cells[0], _Health())
    counts = [_count(cell) for cell in cells[1:]]
    if table == "availability" and len(counts) >= 3:
        row.availability = (counts[0], counts[1], counts[2])
    elif table == "replication":
        row.replication = counts
    elif table == "deletion":
        row.deletion = counts


def parse_lizardfs(table: StringTable) -> MooseFS:
    state = MooseFS(product="LizardFS")
    health: dict[str, _Health] = {}
    definitions: dict[str, str] = {}
    block = ""
    human_table = ""
    for row in table:
        line = "\t".join(row) if len(row) > 1 else (row[0] if row else "")
        if not line.strip():
            continue
        words = line.split()
        if words[0] == "watchkeeper:" and len(words) >= 3:
            if words[1] == "master":
                state.master = words[2]
            elif words[1] == "error":
                state.errors.append(" ".join(words[2:]))
            continue
        if line.startswith("[") and line.rstrip().endswith("]"):
            block, human_table = line.strip()[1:-1], ""
            continue
        if block == "info":
            if len(words) >= 12 and line[:1].isdigit():
                _info_porcelain(state, words)
            elif words[0] == "LizardFS" and len(words) == 2:
                state.info.setdefault("master version", words[1].lstrip("v"))
            elif ":\t" in line:
                label, _, value = line.partition(":\t")
                key = _INFO_LABELS.get(label.strip())
                number = binary_size(value) if key else None
                if key and number is not None:
                    state.info.setdefault(key, str(int(number)))
        elif block == "chunks-health":
            if words[0] in ("AVA", "REP", "DEL") and len(words) >= 3:
                row_health = health.setdefault(words[1], _Health())
                counts = [_count(word) for word in words[2:]]
                if words[0] == "AVA" and len(counts) >= 3:
                    row_health.availability = (counts[0], counts[1], counts[2])
                elif words[0] == "REP":
                    row_health.replication = counts
                elif words[0] == "DEL":
                    row_health.deletion = counts
            elif line.startswith("Chunks ") and line.rstrip().endswith(" state:"):
                human_table = words[1]
            elif line.startswith("\t") and human_table:
                _human_health(line, human_table, health)
        elif block == "list-chunkservers":
            server = _chunkserver(words)
            if server is not None:
                state.chunkservers[server.address] = server
        elif block == "list-disks":
            disk = _disk(words)
            if disk is not None:
                state.disks.append(disk)
        elif block == "list-goals" and len(words) >= 2 and words[0].isdigit():
            definitions[words[1]] = " ".join(words[2:])
        elif block == "metadataserver-status" and len(words) >= 2 and not state.personality:
            state.personality = f"{words[0]} ({words[1]})"
        elif line.startswith("Can't connect") or line.startswith("Error"):
            state.errors.append(line.strip())
    if health:
        state.goal_health = {}
        for name, goal_health in health.items():
            single = _single_copy(definitions[name]) if name in definitions else name == "1"
            goal = goal_counts(name, goal_health, single)
            if goal.chunks:
                state.goal_health[goal.goal] = goal
    if state.info and not state.errors and "master version" not in state.info:
        state.errors.append("no version in lizardfs-admin info's output")
    return state


lizardfs_section = AgentSection("lizardfs", parse_lizardfs)
