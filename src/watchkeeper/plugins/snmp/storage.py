"""Disks and volumes of NAS boxes and servers from HOST-RESOURCES-MIB's hrStorageTable, as the
same value `<<<df>>>` gives, so fill levels and time-until-full are checked as for a server.

    hrStorageType (an OID under 1.3.6.1.2.1.25.2.1), hrStorageDescr, hrStorageAllocationUnits,
    hrStorageSize and hrStorageUsed (in allocation units)

Only storage that holds files is taken (fixed, removable, network and flash disks, RAM disks);
RAM and swap are memory, not storage.
"""

from __future__ import annotations

from watchkeeper.checkapi import SnmpTable, StringTable, snmp_cell, snmp_rows, snmp_section, snmp_text, to_int
from watchkeeper.plugins.filesystems.df import Filesystem

HR_STORAGE = SnmpTable("1.3.6.1.2.1.25.2.3.1", ("2", "3", "4", "5", "6"))
TYPE, DESCR, UNITS, SIZE, USED = range(5)
STORAGE_TYPES = {"1.3.6.1.2.1.25.2.1.4": "hrStorageFixedDisk", "1.3.6.1.2.1.25.2.1.5": "hrStorageRemovableDisk",
                 "1.3.6.1.2.1.25.2.1.8": "hrStorageRamDisk", "1.3.6.1.2.1.25.2.1.9": "hrStorageFlashMemory",
                 "1.3.6.1.2.1.25.2.1.10": "hrStorageNetworkDisk"}


def parse_hr_storage(table: StringTable) -> dict[str, Filesystem] | None:
    (rows,) = snmp_rows(table, 1)
    found: dict[str, Filesystem] = {}
    for index, row in rows.items():
        kind = STORAGE_TYPES.get(snmp_cell(row, TYPE).lstrip("."))
        units, size, used = (to_int(snmp_cell(row, column)) for column in (UNITS, SIZE, USED))
        if kind is None or units is None or size is None or used is None or units <= 0 or size <= 0 or used < 0:
            continue
        # a volume over 2**31 units reports a negative size on some agents: skipped above, not misread
        name = " ".join(snmp_text(snmp_cell(row, DESCR)).split()) or f"hrStorage {index}"
        if name in found:
            name = f"{name} {index}"
        found[name] = Filesystem(device=name, fs_type=kind, size_bytes=size * units, used_bytes=used * units,
                                 avail_bytes=max(size - used, 0) * units)
    return found or None


snmp_storage_section = snmp_section("snmp_hr_storage", parse_hr_storage, (HR_STORAGE,), parsed_section="df")
