"""Parse `<<<moosefs>>>`: the master's state as printed by `mfscli` 3.0 without a terminal.

The model (`MooseFS`) also holds a LizardFS master's state (`plugins/lizardfs/admin.py`
fills it from `lizardfs-admin`): LizardFS is a MooseFS fork with the same chunkservers,
disks and goals, so both are judged by the same checks.

The agent runs `mfscli -SIN,CS,HD,IL,MO` and `mfscli -m1 -SIC` and prints both outputs
under one header. Without a terminal mfscli prints one record per line, the section name
first (`chunk servers:`, `disks:`, `all chunks matrix:`, ...), fields separated by tabs.
The agent adds `watchkeeper:` lines: the master it asked and any error it met.

The parser keeps what the checks need and ignores lines it does not know, so a newer
mfscli with extra sections or columns still parses; it never raises on odd input.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from watchkeeper.checkapi import AgentSection, StringTable


@dataclass(frozen=True, slots=True)
class GoalCounts:
    """Chunks of one goal by how many valid copies they have, classified as mfscli does."""

    goal: int | str
    """MooseFS goals are numbers; LizardFS goals have names (`2`, `ec21`, `xor3`, custom)."""
    missing: int = 0
    """No valid copy: the data in these chunks is unreadable until a copy returns."""
    endangered: int = 0
    """One copy left of a goal of two or more: the next failure loses data."""
    undergoal: int = 0
    """Fewer copies than the goal, but at least two."""
    stable: int = 0
    overgoal: int = 0
    single_by_goal: int = 0
    """LizardFS: chunks with one copy because their goal asks for one (no redundancy by choice)."""

    @property
    def lacking(self) -> int:
        """Chunks that replication can still bring back to their goal."""
        return self.endangered + self.undergoal

    @property
    def chunks(self) -> int:
        return self.missing + self.endangered + self.undergoal + self.stable + self.overgoal + self.single_by_goal


@dataclass(slots=True)
class ChunkMatrix:
    """`goal/copies/chunks` cells of one matrix ("all" copies, or "regular": disks not marked for removal)."""

    cells: dict[tuple[int, int], int] = field(default_factory=dict)

    def by_goal(self) -> dict[int | str, GoalCounts]:
        counts: dict[int, dict[str, int]] = {}
        for (goal, copies), chunks in sorted(self.cells.items()):
            row = counts.setdefault(goal, {})
            if copies == 0:
                kind = "missing"
            elif copies < goal:
                kind = "endangered" if copies == 1 else "undergoal"
            elif copies == goal:
                kind = "stable"
            else:
                kind = "overgoal"
            row[kind] = row.get(kind, 0) + chunks
        return {goal: GoalCounts(goal, **row) for goal, row in counts.items()}

    def total(self, kind: str) -> int:
        return sum(getattr(counts, kind) for counts in self.by_goal().values())


@dataclass(frozen=True, slots=True)
class Chunkserver:
    address: str
    """`ip:port`, how the master names it; the service item."""
    connected: bool
    maintenance: str
    """`off`, `on`, or `temp_on` (a gracefully stopped server, held for a while before replication)."""
    server_id: str = ""
    version: str = ""
    chunks: int = 0
    used_bytes: int = 0
    total_bytes: int = 0
    removal_status: str = "-"
    """`-` unless a disk is marked for removal; then `NOT READY` or `READY`."""
    removal_chunks: int = 0
    removal_used_bytes: int = 0
    removal_total_bytes: int = 0


@dataclass(frozen=True, slots=True)
class Disk:
    server: str
    path: str
    chunks: int
    last_error: str
    status: str
    used_bytes: int
    total_bytes: int

    @property
    def marked_for_removal(self) -> bool:
        return self.status.startswith("marked for removal")

    @property
    def damaged(self) -> bool:
        return self.status in ("damaged", "invalid") or "damaged" in self.status


@dataclass(frozen=True, slots=True)
class ChunkLoop:
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass(slots=True)
class MooseFS:
    master: str = ""
    product: str = "MooseFS"
    """Whose master this is: "MooseFS" or "LizardFS"; it names the tools in messages."""
    errors: list[str] = field(default_factory=list)
    info: dict[str, str] = field(default_factory=dict)
    """`master info:` key/value pairs: version, total/avail space, chunks, last metadata save..."""
    all_chunks: ChunkMatrix = field(default_factory=ChunkMatrix)
    regular_chunks: ChunkMatrix | None = None
    chunkservers: dict[str, Chunkserver] = field(default_factory=dict)
    disks: list[Disk] = field(default_factory=list)
    chunk_loop: ChunkLoop | None = None
    mounts: int = 0
    goal_health: dict[int | str, GoalCounts] | None = None
    """Counts per goal as a LizardFS master reports them; MooseFS's come from its matrix."""
    personality: str = ""
    """LizardFS: `master` or `shadow`, with its status, from `metadataserver-status`."""

    def by_goal(self) -> dict[int | str, GoalCounts]:
        if self.goal_health is not None:
            return self.goal_health
        return self.all_chunks.by_goal()

    def total(self, kind: str) -> int:
        return sum(getattr(counts, kind) for counts in self.by_goal().values())

    @property
    def reachable(self) -> bool:
        return "master version" in self.info and not self.errors

    def info_int(self, key: str) -> int | None:
        return _int(self.info.get(key, ""))


def _int(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None


def _int0(text: str) -> int:
    return _int(text) or 0


_MAINTENANCE = {"maintenance_off": "off", "maintenance_on": "on", "maintenance_temp_on": "temp_on"}


def _chunkserver(fields: list[str]) -> Chunkserver | None:
    # ip, port, id, labels, version, load, maintenance, chunks, used, total,
    # removal status, removal chunks, removal used, removal total
    if len(fields) < 10:
        return None
    address = f"{fields[0]}:{fields[1]}"
    get = fields.__getitem__
    return Chunkserver(
        address=address, connected=True, maintenance=_MAINTENANCE.get(get(6), get(6)),
        server_id=get(2), version=get(4), chunks=_int0(get(7)), used_bytes=_int0(get(8)),
        total_bytes=_int0(get(9)),
        removal_status=fields[10] if len(fields) > 10 else "-",
        removal_chunks=_int0(fields[11]) if len(fields) > 11 else 0,
        removal_used_bytes=_int0(fields[12]) if len(fields) > 12 else 0,
        removal_total_bytes=_int0(fields[13]) if len(fields) > 13 else 0,
    )


def _disk(fields: list[str]) -> Disk | None:
    # "ip:port:path", chunks, last error, status, 8 I/O columns, used, total
    if len(fields) < 6:
        return None
    host, _, rest = fields[0].partition(":")
    port, _, path = rest.partition(":")
    return Disk(
        server=f"{host}:{port}", path=path, chunks=_int0(fields[1]), last_error=fields[2],
        status=fields[3], used_bytes=_int0(fields[-2]), total_bytes=_int0(fields[-1]),
    )


def parse_moosefs(table: StringTable) -> MooseFS:
    state = MooseFS()
    loop_start: float | None = None
    loop_end: float | None = None
    for line in table:
        if not line:
            continue
        head, rest = line[0].strip(), [field.strip() for field in line[1:]]
        if head == "watchkeeper:" and len(rest) >= 2:
            if rest[0] == "master":
                state.master = rest[1]
            elif rest[0] == "error":
                state.errors.append(" ".join(rest[1:]))
        elif head == "master info:" and len(rest) >= 2:
            state.info[rest[0]] = rest[1]
        elif head in ("all chunks matrix:", "regular chunks matrix:") and len(rest) >= 4:
            if rest[0] != "goal/copies/chunks:":
                continue
            goal, copies, chunks = _int(rest[1]), _int(rest[2]), _int(rest[3])
            if goal is None or copies is None or chunks is None:
                continue
            if head.startswith("all"):
                matrix = state.all_chunks
            else:
                if state.regular_chunks is None:
                    state.regular_chunks = ChunkMatrix()
                matrix = state.regular_chunks
            matrix.cells[(goal, copies)] = matrix.cells.get((goal, copies), 0) + chunks
        elif head == "regular chunks matrix:" and state.regular_chunks is None:
            state.regular_chunks = ChunkMatrix()  # a matrix with only class lines: no chunks at all
        elif head == "chunk servers:":
            server = _chunkserver(rest)
            if server is not None:
                state.chunkservers[server.address] = server
        elif head == "Disconnected chunk servers:" and len(rest) >= 2:
            address = f"{rest[0]}:{rest[1]}"
            maintenance = rest[3] if len(rest) > 3 else "maintenance_off"
            state.chunkservers.setdefault(address, Chunkserver(
                address=address, connected=False, maintenance=_MAINTENANCE.get(maintenance, maintenance),
                server_id=rest[2] if len(rest) > 2 else "",
            ))
        elif head == "disks:":
            disk = _disk(rest)
            if disk is not None:
                state.disks.append(disk)
        elif head == "chunk loop" and len(rest) >= 2:
            if rest[0] == "start:":
                loop_start = _int(rest[1])
            elif rest[0] == "end:":
                loop_end = _int(rest[1])
        elif head == "active mounts, operations:":
            state.mounts += 1
        elif head.startswith("Working master servers not found") or head.startswith("Can't connect"):
            state.errors.append(head)
    if loop_start is not None and loop_end is not None and loop_end >= loop_start:
        state.chunk_loop = ChunkLoop(float(loop_start), float(loop_end))
    return state


moosefs_section = AgentSection("moosefs", parse_moosefs)
