"""Switch and router ports from IF-MIB, as the same `Interfaces` value the agent's `lnx_if`
gives, so traffic, errors, link state and packet-rate spikes are checked alike.

Tables: ifTable (1.3.6.1.2.1.2.2.1), ifXTable (1.3.6.1.2.1.31.1.1.1) for names and 64-bit
counters, ifStackTable (1.3.6.1.2.1.31.1.2.1) for the member ports of a link aggregation, and
sysUpTime, whose fall says the device restarted and its counters with it.

An item is the port's ifName, else its ifDescr, made unique with the ifIndex where two ports
share one (a stack's eight "Switch loopback interface"s).
"""

from __future__ import annotations

from watchkeeper.checkapi import SnmpTable, StringTable, snmp_cell, snmp_rows, snmp_section, snmp_text, to_int
from watchkeeper.plugins.interfaces.lnx_if import Interface, Interfaces

IF_TABLE = SnmpTable("1.3.6.1.2.1.2.2.1", ("2", "3", "5", "7", "8", "10", "11", "12", "13", "14",
                                           "16", "17", "18", "19", "20"))
(DESCR, TYPE, SPEED, ADMIN, OPER, IN_OCTETS, IN_UCAST, IN_NUCAST, IN_DISCARDS, IN_ERRORS,
 OUT_OCTETS, OUT_UCAST, OUT_NUCAST, OUT_DISCARDS, OUT_ERRORS) = range(15)
IFX_TABLE = SnmpTable("1.3.6.1.2.1.31.1.1.1", ("1", "6", "7", "8", "9", "10", "11", "12", "13", "15", "18"))
(X_NAME, HC_IN_OCTETS, HC_IN_UCAST, HC_IN_MCAST, HC_IN_BCAST, HC_OUT_OCTETS, HC_OUT_UCAST, HC_OUT_MCAST,
 HC_OUT_BCAST, HIGH_SPEED, ALIAS) = range(11)
STACK_TABLE = SnmpTable("1.3.6.1.2.1.31.1.2.1", ("3",))
UPTIME = SnmpTable("1.3.6.1.2.1.1", ("3",), scalars=True)

OPER_STATES = {"1": "UP", "2": "DOWN", "3": "TESTING", "4": "UNKNOWN", "5": "DORMANT", "6": "NOTPRESENT",
               "7": "LOWERLAYERDOWN"}
LOOPBACK = "24"  # softwareLoopback
LAG_TYPES = frozenset({"161"})  # ieee8023adLag
WRAP_32 = 2**32


def parse_snmp_interfaces(table: StringTable) -> Interfaces | None:
    if_rows, ifx_rows, stack_rows, uptime_rows = snmp_rows(table, 4)
    names = _item_names(if_rows, ifx_rows)
    found = Interfaces()
    by_index: dict[str, Interface] = {}
    for index, row in if_rows.items():
        x = ifx_rows.get(index, [])
        nic = _interface(row, x)
        if nic is None:
            continue
        by_index[index] = found.by_name[names[index]] = nic
    if not found.by_name:
        return None
    for stacked in stack_rows:
        higher, _, lower = stacked.partition(".")
        if (higher in by_index and lower in by_index and snmp_cell(stack_rows[stacked], 0) == "1"
                and snmp_cell(if_rows[higher], TYPE) in LAG_TYPES):
            lag, member = by_index[higher], by_index[lower]
            lag.members = (*lag.members, (names[lower], member.oper_state or "UNKNOWN"))
    ticks = to_int(snmp_cell(uptime_rows.get("0", []), 0))
    found.device_uptime_s = ticks / 100.0 if ticks is not None and ticks >= 0 else None
    return found


def _interface(row: list[str], x: list[str]) -> Interface | None:
    def number(cells: list[str], column: int) -> int | None:
        value = to_int(snmp_cell(cells, column))
        return value if value is not None and value >= 0 else None

    hc = [number(x, column) for column in (HC_IN_OCTETS, HC_IN_UCAST, HC_OUT_OCTETS, HC_OUT_UCAST)]
    if all(value is not None for value in hc):
        wrap: int | None = None
        in_octets, in_packets, out_octets, out_packets = (value or 0 for value in hc)
        in_packets += (number(x, HC_IN_MCAST) or 0) + (number(x, HC_IN_BCAST) or 0)
        out_packets += (number(x, HC_OUT_MCAST) or 0) + (number(x, HC_OUT_BCAST) or 0)
    else:
        low = [number(row, column) for column in (IN_OCTETS, IN_UCAST, OUT_OCTETS, OUT_UCAST)]
        if any(value is None for value in low):
            return None  # no counters: nothing to measure (a port the agent lists without them)
        wrap = WRAP_32
        in_octets, in_packets, out_octets, out_packets = (value or 0 for value in low)
        in_packets += number(row, IN_NUCAST) or 0
        out_packets += number(row, OUT_NUCAST) or 0
    high_speed, speed = number(x, HIGH_SPEED), number(row, SPEED)
    bits = high_speed * 1_000_000 if high_speed else speed
    admin = snmp_cell(row, ADMIN)
    return Interface(
        in_bytes=in_octets, in_packets=in_packets, in_errors=number(row, IN_ERRORS) or 0,
        in_drops=number(row, IN_DISCARDS) or 0, out_bytes=out_octets, out_packets=out_packets,
        out_errors=number(row, OUT_ERRORS) or 0, out_drops=number(row, OUT_DISCARDS) or 0, has_counters=True,
        oper_state=OPER_STATES.get(snmp_cell(row, OPER), "UNKNOWN"),
        admin_up=None if admin not in ("1", "2") else admin == "1",
        speed_bits_per_second=bits or None, counter_wrap=wrap, loopback=snmp_cell(row, TYPE) == LOOPBACK,
        alias=snmp_text(snmp_cell(x, ALIAS)))


def _item_names(if_rows: dict[str, list[str]], ifx_rows: dict[str, list[str]]) -> dict[str, str]:
    wanted = {}
    for index, row in if_rows.items():
        name = snmp_text(snmp_cell(ifx_rows.get(index, []), X_NAME)) or snmp_text(snmp_cell(row, DESCR))
        wanted[index] = " ".join(name.split()) or f"ifIndex {index}"
    counts: dict[str, int] = {}
    for name in wanted.values():
        counts[name] = counts.get(name, 0) + 1
    return {index: name if counts[name] == 1 else f"{name} {index}" for index, name in wanted.items()}


snmp_interfaces_section = snmp_section("snmp_interfaces", parse_snmp_interfaces,
                                       (IF_TABLE, IFX_TABLE, STACK_TABLE, UPTIME), parsed_section="lnx_if")
