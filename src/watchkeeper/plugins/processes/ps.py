"""The process table, from the Checkmk agent's `<<<ps_lnx>>>` (and the older `<<<ps>>>`):

    [header] CGROUP USER VSZ RSS TIME ELAPSED PID COMMAND
    - root 33184 8168 00:00:01 26:51 1 /sbin/init
    4:memory:/system.slice/ssh.service root 5244 4296 00:00:00 26:15 1113 sshd: root@notty

    (root,45656,15572,00:00:03/07:05,1) /sbin/init            <- <<<ps>>>, agents before 1.6

VSZ and RSS are KiB. A zombie's command ends in `<defunct>`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from watchkeeper.checkapi import AgentSection, StringTable, to_int


@dataclass(frozen=True, slots=True)
class Process:
    user: str
    pid: int
    command: str
    vsz_kib: int = 0
    rss_kib: int = 0
    cgroup: str = ""

    @property
    def zombie(self) -> bool:
        return self.command.endswith("<defunct>")


class ProcessTable:
    """The rows of a process table, made into `Process`es only when a rule looks for one:
    the check every host has counts processes and zombies, which needs no more than the rows."""

    def __init__(self, rows: list[list[str]], build: Callable[[list[str]], Process]) -> None:
        self.rows = rows
        self.build = build

    def __len__(self) -> int:
        return len(self.rows)

    def zombies(self) -> list[Process]:
        return [self.build(row) for row in self.rows if row[-1].endswith("<defunct>")]

    @cached_property
    def processes(self) -> list[Process]:
        return [self.build(row) for row in self.rows]


def parse_ps_lnx(table: StringTable) -> ProcessTable | None:
    """Columns are found by the header's names once; rows are kept as they are and read by
    position when needed (a process table has hundreds of rows every cycle)."""
    header: list[str] | None = None
    rows: list[list[str]] = []
    user = vsz = rss = pid = cgroup = None
    for row in table:
        if row and row[0] == "[header]":
            header = row[1:]
            where = {name: index for index, name in enumerate(header[:-1])}
            user, vsz, rss, pid, cgroup = (where.get(name) for name in ("USER", "VSZ", "RSS", "PID", "CGROUP"))
            continue
        if header is not None and pid is not None and len(row) >= len(header):
            number = row[pid]
            if number.isdigit() and len(number) < 20:
                rows.append(row)
    if header is None:
        return None
    command_at = len(header) - 1

    def build(row: list[str]) -> Process:
        return Process(row[user] if user is not None else "", int(row[pid or 0]), " ".join(row[command_at:]),
                       _kib(row, vsz), _kib(row, rss), row[cgroup] if cgroup is not None else "")
    return ProcessTable(rows, build)


def _kib(row: list[str], index: int | None) -> int:
    if index is None:
        return 0
    text = row[index]
    return int(text) if text.isdigit() and len(text) < 20 else 0


def parse_ps(table: StringTable) -> ProcessTable | None:
    """`(user,vsz,rss,cputime/etime,pid) command`; lines without the parenthesis are skipped."""
    rows = []
    for row in table:
        if not row or not row[0].startswith("(") or not row[0].endswith(")"):
            continue
        fields = row[0][1:-1].split(",")
        if len(fields) >= 5 and to_int(fields[4]) is not None:
            rows.append(row)
    if not rows and not table:
        return None

    def build(row: list[str]) -> Process:
        fields = row[0][1:-1].split(",")
        return Process(fields[0], to_int(fields[4]) or 0, " ".join(row[1:]), to_int(fields[1]) or 0,
                       to_int(fields[2]) or 0)
    return ProcessTable(rows, build)


ps_lnx_section = AgentSection("ps_lnx", parse_ps_lnx, parsed_section="processes")
ps_section = AgentSection("ps", parse_ps, parsed_section="processes")
