"""Parsers for the three time daemons a Linux host may run, into one `TimeSync` value.

    <<<chrony>>>                                  `chronyc -n tracking`
    Reference ID    : 7F000001 (127.0.0.1)
    Stratum         : 9
    System time     : 0.000004911 seconds fast of NTP time
    Leap status     : Normal                      (or: Not synchronised)

    <<<ntp>>>                                     `ntpq -np`, headers cut, tally split off (`%`: blank)
    * 127.0.0.1 .LOCL. 10 l 33 64 377 0.000 0.045 1.012

    <<<timesyncd>>>                               `timedatectl timesync-status`, then the mtime of
           Server: 216.239.38.15 (time4.google.com)    its "synchronized" file as [[[EPOCH]]]
           Offset: +316us
    [[[1700000000]]]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from watchkeeper.checkapi import AgentSection, StringTable, to_float, to_int

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0}
_DURATION = re.compile(r"^([+-]?\d{1,12}(?:\.\d{1,12})?)(ns|us|µs|ms|s|min)$")


@dataclass(slots=True)
class TimeSync:
    daemon: str
    synchronised: bool | None = None
    """None when the daemon gave no verdict (it did not answer)."""
    offset_seconds: float | None = None
    stratum: int | None = None
    server: str = ""
    last_sync: float | None = None
    notes: list[str] = field(default_factory=list)


def parse_chrony(table: StringTable) -> TimeSync | None:
    sync = TimeSync("chrony")
    fields: dict[str, str] = {}
    for row in table:
        line = " ".join(row)
        key, colon, value = line.partition(":")
        if colon:
            fields[key.strip()] = value.strip()
        elif line.strip():
            sync.notes.append(line.strip()[:200])  # "506 Cannot talk to daemon"
    if not fields and not sync.notes:
        return None
    leap = fields.get("Leap status", "")
    sync.synchronised = None if not leap else leap.lower() != "not synchronised"
    reference = fields.get("Reference ID", "")
    sync.server = reference.split("(")[-1].rstrip(")") if "(" in reference else reference
    sync.stratum = to_int(fields.get("Stratum"))
    system_time = fields.get("System time", "").split()
    if len(system_time) >= 3:
        seconds = to_float(system_time[0])
        if seconds is not None:
            sync.offset_seconds = -seconds if system_time[2] == "slow" else seconds
    return sync


def parse_ntp(table: StringTable) -> TimeSync | None:
    """Rows are the tally code, then `ntpq -np`'s ten columns read from the end: a peer's name
    may hold spaces (a reference clock's `SHM(0)` description, a cut-off host name)."""
    if not table:
        return None
    sync = TimeSync("ntpd", synchronised=False)
    for row in table:
        if len(row) < 11:
            if row:
                sync.notes.append(f"not an ntpq peer line: {' '.join(row)[:120]!r}")
            continue
        tally, peer, stratum, reach = row[0], " ".join(row[1:-9]), row[-8], row[-4]
        if tally in ("*", "o"):  # the system peer (o: with PPS)
            sync.synchronised = True
            sync.server = peer
            sync.stratum = to_int(stratum)
            offset_ms = to_float(row[-2])
            sync.offset_seconds = offset_ms / 1000.0 if offset_ms is not None else None
        sync.notes.append(f"{tally if tally != '%' else ' '} {peer} stratum {stratum} reach {reach}")
    return sync


def parse_timesyncd(table: StringTable) -> TimeSync | None:
    if not table:
        return None
    sync = TimeSync("systemd-timesyncd")
    fields: dict[str, str] = {}
    for row in table:
        line = " ".join(row)
        if line.startswith("[[[") and line.endswith("]]]"):
            sync.last_sync = to_float(line[3:-3])
            continue
        if line.startswith("<<<"):
            break  # the NTP message companion section: not needed for a verdict
        key, colon, value = line.partition(":")
        if colon:
            fields[key.strip()] = value.strip()
    sync.server = fields.get("Server", "")
    sync.stratum = to_int(fields.get("Stratum"))
    offset = _DURATION.match(fields.get("Offset", ""))
    if offset:
        amount = to_float(offset.group(1))
        sync.offset_seconds = amount * _UNITS[offset.group(2)] if amount is not None else None
    leap = fields.get("Leap", "").lower()
    sync.synchronised = bool(sync.server) and leap != "not synchronized" and leap != "unsynchronized"
    return sync


chrony_section = AgentSection("chrony", parse_chrony, parsed_section="timesync")
ntp_section = AgentSection("ntp", parse_ntp, parsed_section="timesync")
timesyncd_section = AgentSection("timesyncd", parse_timesyncd, parsed_section="timesync",
                                 companions=("timesyncd_ntpmessage",))
