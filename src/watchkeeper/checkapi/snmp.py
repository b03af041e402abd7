"""Sections read from SNMP devices: which tables to walk, and how their rows reach a parser.

An `SnmpSection` is an `AgentSection` that also names the OID tables it is made of. The SNMP
transport walks them and writes them as an ordinary section, so parsing, checking, the raw
output kept for replay and the `Agent` service work as for an agent:

    <<<snmp_interfaces:sep(9)>>>
    0	1	GigabitEthernet1/0/1	6	1000000000	1	1 ...     table 0, OID index 1, its columns
    1	1	Gi1/0/1	1234567890123 ...                      table 1, OID index 1

Values are written as text: numbers in decimal, object identifiers dotted, octet strings as
they are when they are printable UTF-8, otherwise as `hex:` and their bytes in hexadecimal
(a MAC address, or a name with a tab in it). A cell the device did not answer is empty.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from watchkeeper.checkapi.plugin import AgentSection
from watchkeeper.model.verdicts import StringTable

SectionT = TypeVar("SectionT")

HEX_PREFIX = "hex:"


@dataclass(frozen=True, slots=True)
class SnmpTable:
    """Columns under `base`, walked column by column; a row is an OID index (what follows
    `base.column.`). With `scalars`, each column is one value (`base.column.0`) and the table
    has one row, index `0`."""

    base: str
    columns: tuple[str, ...]
    scalars: bool = False

    def oids(self) -> tuple[str, ...]:
        return tuple(f"{self.base}.{column}" for column in self.columns)


@dataclass(frozen=True, slots=True)
class SnmpSection(AgentSection[SectionT]):
    """An agent section whose rows an SNMP device gives: `tables`, in the order the parser
    reads them (`snmp_rows(table, len(tables))`)."""

    tables: tuple[SnmpTable, ...] = field(default=())


def snmp_section(name: str, parse: Callable[[StringTable], SectionT | None], tables: tuple[SnmpTable, ...],
                 parsed_section: str = "") -> SnmpSection[SectionT]:
    return SnmpSection(name, parse, parsed_section=parsed_section, tables=tables)


SnmpRows = dict[str, list[str]]
"""One table: OID index -> its cells, one per column (empty where the device gave none)."""


def snmp_rows(table: StringTable, count: int) -> list[SnmpRows]:
    """The section's rows split back into its `count` tables, in walk order."""
    tables: list[SnmpRows] = [{} for _ in range(count)]
    for row in table:
        if len(row) < 2 or not row[0].isdecimal() or len(row[0]) > 3 or int(row[0]) >= count:
            continue
        tables[int(row[0])][row[1]] = row[2:]
    return tables


def snmp_cell(row: list[str], column: int) -> str:
    return row[column] if column < len(row) else ""


def snmp_text(value: str) -> str:
    """An octet string as text: written as hex when it was not printable, decoded here."""
    if value.startswith(HEX_PREFIX):
        try:
            raw = bytes.fromhex(value[len(HEX_PREFIX):])
        except ValueError:
            return value
        return raw.decode("utf-8", "replace").replace("\x00", "").strip()
    return value


def render_value(value: object) -> str:
    """How the transport writes one SNMP value into a section row."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            return HEX_PREFIX + value.hex()
        if text.isprintable() and not text.startswith(HEX_PREFIX):
            return text
        return HEX_PREFIX + value.hex()
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int | float | str):
        text = str(value)
        return text if text.isprintable() else HEX_PREFIX + text.encode().hex()
    return HEX_PREFIX + repr(value).encode().hex()
