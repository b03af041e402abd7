"""Network interfaces on FreeBSD, from `<<<freebsd_if>>>`: `netstat -ibndW` counters and `ifconfig -a` state.

    [netstat]
    Name     Mtu Network       Address              Ipkts Ierrs Idrop     Ibytes    Opkts Oerrs     Obytes  Coll
    vtnet0  1500 <Link#1>      52:54:00:12:34:56      155     0     0      30412      136     0      27564     0
    vtnet0     - 10.0.2.0/24   10.0.2.15              150     -     -      26364      128     -      24696     -
    [ifconfig]
    vtnet0: flags=1008843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST,LOWER_UP> metric 0 mtu 1500
        media: Ethernet autoselect (10Gbase-T <full-duplex>)
        status: active

The `<Link#n>` row holds an interface's counters; the rows per address repeat or leave them out.
The counter columns are found by the header's names and counted from the right, because an
interface without a link-layer address leaves the Address column empty. A name ending in `*`
is an interface that is down.
"""

from __future__ import annotations

import re

from watchkeeper.checkapi import AgentSection, StringTable, to_int
from watchkeeper.plugins.interfaces.lnx_if import Interface, Interfaces

COUNTERS = {"Ipkts": "in_packets", "Ierrs": "in_errors", "Idrop": "in_drops", "Ibytes": "in_bytes",
            "Opkts": "out_packets", "Oerrs": "out_errors", "Obytes": "out_bytes", "Odrop": "out_drops"}
_IFCONFIG_HEAD = re.compile(r"^([\w.:-]+): flags=[0-9a-f]+<([^>]*)>")
_MEDIA_SPEED = re.compile(r"\((\d{1,6})([GM]?)base", re.IGNORECASE)
LINK_STATES = {"active": "UP", "associated": "UP", "running": "UP", "no carrier": "DOWN", "no ring": "DOWN"}


def _netstat(lines: list[str], found: Interfaces) -> None:
    header: list[str] = []
    for line in lines:
        fields = line.split()
        if fields[:1] == ["Name"]:
            header = fields
            continue
        if not header or "Ipkts" not in header or len(fields) < 4 or not fields[2].startswith("<Link#"):
            continue
        counted = header[header.index("Ipkts"):]
        if len(fields) < len(counted) + 3:
            continue
        values = fields[-len(counted):]
        name = fields[0]
        nic = found.by_name.setdefault(name.rstrip("*"), Interface())
        if name.endswith("*"):
            nic.admin_up = False
        for column, value in zip(counted, values, strict=True):
            attribute, number = COUNTERS.get(column), to_int(value)
            if attribute is not None and number is not None and number >= 0:
                setattr(nic, attribute, number)
                nic.has_counters = True


def _ifconfig(lines: list[str], found: Interfaces) -> None:
    nic: Interface | None = None
    for line in lines:
        head = _IFCONFIG_HEAD.match(line)
        if head is not None:
            nic = found.by_name.get(head.group(1))
            if nic is not None:
                flags = head.group(2).split(",")
                nic.admin_up = "UP" in flags and nic.admin_up is not False
                nic.loopback = "LOOPBACK" in flags
            continue
        if nic is None:
            continue
        key, _, value = line.strip().partition(": ")
        if key == "status":
            nic.oper_state = LINK_STATES.get(value.strip(), value.strip().upper())
        elif key == "media":
            speed = _MEDIA_SPEED.search(value)
            if speed is not None:
                scale = 1_000_000_000 if speed.group(2).upper() == "G" else 1_000_000
                nic.speed_bits_per_second = int(speed.group(1)) * scale


def parse_freebsd_if(table: StringTable) -> Interfaces | None:
    found = Interfaces()
    blocks: dict[str, list[str]] = {"[netstat]": [], "[ifconfig]": []}
    current: list[str] | None = None
    for row in table:
        line = row[0] if row else ""
        if line in blocks:
            current = blocks[line]
        elif current is not None and line.strip():
            current.append(line)
    _netstat(blocks["[netstat]"], found)
    _ifconfig(blocks["[ifconfig]"], found)
    found.by_name = {name: nic for name, nic in found.by_name.items() if nic.has_counters}
    return found if found.by_name else None


freebsd_if_section = AgentSection("freebsd_if", parse_freebsd_if, parsed_section="lnx_if")
