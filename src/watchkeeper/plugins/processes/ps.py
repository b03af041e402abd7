"""The process table, from the Checkmk agent's `<<<ps_lnx>>>` (and the older `<<<ps>>>`):

    [header] CGROUP USER VSZ RSS TIME ELAPSED PID COMMAND
    - root 33184 8168 00:00:01 26:51 1 /sbin/init
    4:memory:/system.slice/ssh.service root 5244 4296 00:00:00 26:15 1113 sshd: root@notty

    (root,45656,15572,00:00:03/07:05,1) /sbin/init            <- <<<ps>>>, agents before 1.6

VSZ and RSS are KiB. A zombie's command ends in `<defunct>`.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def parse_ps_lnx(table: StringTable) -> list[Process] | None:
    header: list[str] | None = None
    processes: list[Process] = []
    for row in table:
        if row and row[0] == "[header]":
            header = row[1:]
            continue
        if header is None or len(row) < len(header):
            continue
        fields = dict(zip(header[:-1], row, strict=False))
        command = " ".join(row[len(header) - 1:])
        pid = to_int(fields.get("PID"))
        if pid is None:
            continue
        processes.append(Process(fields.get("USER", ""), pid, command, to_int(fields.get("VSZ")) or 0,
                                 to_int(fields.get("RSS")) or 0, fields.get("CGROUP", "")))
    return processes if header is not None else None


def parse_ps(table: StringTable) -> list[Process] | None:
    """`(user,vsz,rss,cputime/etime,pid) command`; lines without the parenthesis are skipped."""
    processes = []
    for row in table:
        if not row or not row[0].startswith("(") or not row[0].endswith(")"):
            continue
        fields = row[0][1:-1].split(",")
        if len(fields) < 5:
            continue
        pid = to_int(fields[4])
        if pid is None:
            continue
        processes.append(Process(fields[0], pid, " ".join(row[1:]), to_int(fields[1]) or 0, to_int(fields[2]) or 0))
    return processes if processes or table else None


ps_lnx_section = AgentSection("ps_lnx", parse_ps_lnx, parsed_section="processes")
ps_section = AgentSection("ps", parse_ps, parsed_section="processes")
