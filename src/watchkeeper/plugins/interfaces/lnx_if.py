"""Network interfaces from `<<<lnx_if>>>`: link state (an `ip link`-style block), then the
counters of /proc/net/dev under `sep(58)`, then optional per-interface attribute blocks.

    [start_iplink]
    4: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1400 qdisc pfifo_fast state UP ...
    [end_iplink]
      eth0: 54408806    1570    0    0    0     0          0         0    89152     919 ...
    [eth0]
            Speed: 1000Mb/s      (a tab before Speed in the real output)

Counters: receive bytes packets errs drop fifo frame compressed multicast, then transmit
bytes packets errs drop fifo colls carrier compressed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from watchkeeper.checkapi import AgentSection, StringTable, to_int


@dataclass(slots=True)
class Interface:
    in_bytes: int = 0
    in_packets: int = 0
    in_errors: int = 0
    in_drops: int = 0
    out_bytes: int = 0
    out_packets: int = 0
    out_errors: int = 0
    out_drops: int = 0
    has_counters: bool = False
    oper_state: str | None = None
    admin_up: bool | None = None
    speed_bits_per_second: int | None = None
    counter_wrap: int | None = None
    """Where the counters wrap (2**32 for a device without 64-bit counters); None: a fall is a reset."""
    loopback: bool = False
    alias: str = ""
    members: tuple[tuple[str, str], ...] = ()
    """A link aggregation's member ports with their link states."""


@dataclass(slots=True)
class Interfaces:
    by_name: dict[str, Interface] = field(default_factory=dict)
    device_uptime_s: float | None = None
    """The device's own uptime (SNMP): when it restarted, its counters did too."""


def parse_lnx_if(table: StringTable) -> Interfaces | None:
    found = Interfaces()
    in_iplink = False
    current: Interface | None = None
    for row in table:
        first = row[0].strip()
        if first == "[start_iplink]":
            in_iplink = True
            continue
        if first == "[end_iplink]":
            in_iplink = False
            continue
        if in_iplink:
            _parse_iplink_row(row, found)
            continue
        if len(row) == 1 and first.startswith("[") and first.endswith("]"):
            current = found.by_name.get(first[1:-1])
            continue
        if current is not None and first == "Speed" and len(row) >= 2:
            speed = row[1].strip().removesuffix("Mb/s")
            megabits = to_int(speed)
            if megabits is not None and megabits >= 0:
                current.speed_bits_per_second = megabits * 1_000_000
            continue
        if len(row) == 2:
            counters = row[1].split()
            numbers = [to_int(c) for c in counters]
            n = [number for number in numbers if number is not None and number >= 0]
            if len(counters) == 16 and len(n) == 16 and first:
                nic = found.by_name.setdefault(first, Interface())
                nic.in_bytes, nic.in_packets, nic.in_errors, nic.in_drops = n[0], n[1], n[2], n[3]
                nic.out_bytes, nic.out_packets, nic.out_errors, nic.out_drops = n[8], n[9], n[10], n[11]
                nic.has_counters = True
    found.by_name = {name: nic for name, nic in found.by_name.items() if nic.has_counters}
    return found if found.by_name else None


def _parse_iplink_row(row: list[str], found: Interfaces) -> None:
    # "4: eth0@if5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1400 ... state UP ..."
    if len(row) < 3 or not row[0].endswith(":") or not row[0][:-1].isdecimal():
        return
    name = row[1].rstrip(":").split("@", 1)[0]
    nic = found.by_name.setdefault(name, Interface())
    flags = row[2].strip("<>").split(",")
    nic.admin_up = "UP" in flags
    if "state" in row[:-1]:
        nic.oper_state = row[row.index("state") + 1].upper()


lnx_if_section = AgentSection("lnx_if", parse_lnx_if)
