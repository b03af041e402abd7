"""A device's uptime over SNMP, as the same value the agent's `<<<uptime>>>` gives, so a
restart is seen on the `Uptime` service of a switch as on a server.

hrSystemUptime (HOST-RESOURCES-MIB) is the host's own and preferred; sysUpTime is the SNMP
agent's (an agent restart resets it). Both are hundredths of a second in 32 bits and wrap
after 497 days: when snmpEngineTime (seconds, SNMP-FRAMEWORK-MIB) is longer, it is taken.
"""

from __future__ import annotations

from watchkeeper.checkapi import SnmpTable, StringTable, snmp_cell, snmp_rows, snmp_section, to_int

SYS_UPTIME = SnmpTable("1.3.6.1.2.1.1", ("3",), scalars=True)
HR_SYSTEM_UPTIME = SnmpTable("1.3.6.1.2.1.25.1", ("1",), scalars=True)
ENGINE_TIME = SnmpTable("1.3.6.1.6.3.10.2.1", ("3",), scalars=True)


def parse_snmp_uptime(table: StringTable) -> float | None:
    values = []
    for rows in snmp_rows(table, 3):
        number = to_int(snmp_cell(rows.get("0", []), 0))
        values.append(number if number is not None and number >= 0 else None)
    sys_ticks, hr_ticks, engine_s = values
    ticks = hr_ticks if hr_ticks is not None else sys_ticks
    seconds = ticks / 100.0 if ticks is not None else None
    if engine_s is not None and (seconds is None or engine_s > seconds + 86400):
        return float(engine_s)
    return seconds


snmp_uptime_section = snmp_section("snmp_uptime", parse_snmp_uptime, (SYS_UPTIME, HR_SYSTEM_UPTIME, ENGINE_TIME),
                                   parsed_section="uptime")
