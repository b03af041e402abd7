"""Parse the `smart` section: per device a `[device NAME TYPE]` line, then `smartctl -x --json`
on one line (smartctl 7 and newer) or the plain `smartctl -x` text (older releases).

Both become a `Disk`. The item is the device name, with the controller slot where there is
one (`/dev/bus/0 megaraid,1`): device names behind a controller are shared by all its disks.
Nothing here raises on odd input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from watchkeeper.checkapi import AgentSection, StringTable, finite, json_list, load_json, to_int

REALLOCATED = (5,)
PENDING = (197,)
OFFLINE_UNCORRECTABLE = (198,)
TEMPERATURE = (194, 190)


@dataclass(slots=True)
class Disk:
    item: str
    protocol: str = ""
    model: str = ""
    serial: str = ""
    passed: bool | None = None
    """None: the device gave no SMART health verdict (a RAID volume, a virtual disk)."""
    temperature: float | None = None
    reallocated: float | None = None
    pending: float | None = None
    offline_uncorrectable: float | None = None
    failing_now: list[str] = field(default_factory=list)
    failed_in_past: list[str] = field(default_factory=list)
    grown_defects: float | None = None
    uncorrected_errors: float | None = None
    nvme_critical_warning: int | None = None
    nvme_percentage_used: float | None = None
    nvme_available_spare: float | None = None
    nvme_spare_threshold: float | None = None
    nvme_media_errors: float | None = None
    standby: bool = False
    messages: list[str] = field(default_factory=list)

    @property
    def has_smart(self) -> bool:
        return self.passed is not None or self.standby

    @property
    def name(self) -> str:
        return " ".join(part for part in (self.model, self.serial and f"serial {self.serial}") if part)


def item_name(device: str, kind: str) -> str:
    """`/dev/bus/0` + `sat+megaraid,1` -> `/dev/bus/0 megaraid,1`; a plain `/dev/sda` stays as it is."""
    slot = kind.split("+")[-1]
    return f"{device} {slot}" if "," in slot else device


def parse_smart(table: StringTable) -> dict[str, Disk]:
    if any(len(row) > 1 for row in table):
        return parse_checkmk_smart(table)
    disks: dict[str, Disk] = {}
    header: list[str] | None = None
    body: list[str] = []
    for row in table:
        line = row[0] if row else ""
        if line.startswith("[device ") and line.rstrip().endswith("]"):
            _add(disks, header, body)
            header, body = line.strip()[8:-1].split(), []
        else:
            body.append(line)
    _add(disks, header, body)
    return disks


def _add(disks: dict[str, Disk], header: list[str] | None, body: list[str]) -> None:
    if header is None or not body:
        return
    device, kind = header[0], header[1] if len(header) > 1 else ""
    text = "\n".join(body)
    disk: Disk | None
    if text.lstrip().startswith("{"):
        disk = _from_json(text, device, kind)
    else:
        disk = _from_text(body, item_name(device, kind))
    if disk is not None:
        disks[disk.item] = disk


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return finite(value)
    found = re.match(r"\s*(\d{1,30}(?:\.\d{1,20})?)", str(value).replace(",", "")) if value is not None else None
    return finite(found.group(1)) if found else None


def _from_json(text: str, device: str, kind: str) -> Disk | None:
    data = load_json(text)
    if data is None:
        return Disk(item_name(device, kind), messages=["smartctl printed no readable JSON"])
    if not isinstance(data, dict):
        return None
    found: dict[str, Any] = data["device"] if isinstance(data.get("device"), dict) else {}
    disk = Disk(item_name(str(found.get("name") or device), str(found.get("type") or kind)))
    disk.protocol = str(found.get("protocol") or "")
    disk.model = str(data.get("model_name") or data.get("product") or "")
    disk.serial = str(data.get("serial_number") or "")
    smartctl: dict[str, Any] = data["smartctl"] if isinstance(data.get("smartctl"), dict) else {}
    for message in json_list(smartctl.get("messages")):
        if isinstance(message, dict) and message.get("string"):
            disk.messages.append(str(message["string"]))
    disk.standby = any(word in message.upper() for message in disk.messages for word in ("STANDBY", "SLEEP"))
    status = data.get("smart_status")
    if isinstance(status, dict) and isinstance(status.get("passed"), bool):
        disk.passed = status["passed"]
    temperature = data.get("temperature")
    if isinstance(temperature, dict):
        disk.temperature = _number(temperature.get("current"))
    attributes = data.get("ata_smart_attributes")
    for attribute in json_list(attributes.get("table")) if isinstance(attributes, dict) else []:
        if isinstance(attribute, dict):
            raw = attribute.get("raw")
            raw_value = _number(raw.get("value") if isinstance(raw, dict) else None)
            _attribute(disk, attribute.get("id"), str(attribute.get("name") or ""), raw_value,
                       str(attribute.get("when_failed") or ""))
    disk.grown_defects = _number(data.get("scsi_grown_defect_list"))
    errors = data.get("scsi_error_counter_log")
    if isinstance(errors, dict):
        counts = [_number(part.get("total_uncorrected_errors")) for part in errors.values() if isinstance(part, dict)]
        disk.uncorrected_errors = sum(count for count in counts if count is not None)
    nvme = data.get("nvme_smart_health_information_log")
    if isinstance(nvme, dict):
        warning = _number(nvme.get("critical_warning"))
        disk.nvme_critical_warning = int(warning) if warning is not None else None
        disk.nvme_percentage_used = _number(nvme.get("percentage_used"))
        disk.nvme_available_spare = _number(nvme.get("available_spare"))
        disk.nvme_spare_threshold = _number(nvme.get("available_spare_threshold"))
        disk.nvme_media_errors = _number(nvme.get("media_errors"))
        if disk.temperature is None:
            disk.temperature = _number(nvme.get("temperature"))
    return disk


def _attribute(disk: Disk, ident: Any, name: str, raw: float | None, when_failed: str) -> None:
    if when_failed == "now":
        disk.failing_now.append(name)
    elif when_failed in ("past", "In_the_past"):
        disk.failed_in_past.append(name)
    if raw is None:
        return
    if ident in REALLOCATED:
        disk.reallocated = raw
    elif ident in PENDING:
        disk.pending = raw
    elif ident in OFFLINE_UNCORRECTABLE:
        disk.offline_uncorrectable = raw
    elif ident in TEMPERATURE and disk.temperature is None:
        disk.temperature = raw


def parse_checkmk_smart(table: StringTable) -> dict[str, Disk]:
    """The Checkmk agent's `smart` plugin: per ATA disk the attribute rows of `smartctl -A`, each
    after the device path, vendor and model; per NVMe disk a `DEVICE NVME MODEL` line and then
    its `key: value` health lines.

        /dev/sda ATA WDC_SSC-D0128SC-   5 Reallocated_Sector_Ct 0x0013 100 100 050 Pre-fail Always - 0

    There is no overall health verdict in this form: a disk counts as passing unless one of
    its attributes is failing now (`FAILING_NOW` in the WHEN_FAILED column).
    """
    disks: dict[str, Disk] = {}
    nvme: Disk | None = None
    for row in table:
        if len(row) >= 13 and row[3].isdigit() and row[5].startswith("0x"):
            disk = disks.setdefault(row[0], Disk(row[0], protocol="ATA", model=row[2].strip("_"), passed=True))
            when_failed = "" if row[11] == "-" else row[11]
            _attribute(disk, to_int(row[3]), row[4], _number(row[12]), "now" if when_failed == "FAILING_NOW" else
                       "past" if when_failed == "In_the_past" else when_failed)
            if when_failed == "FAILING_NOW":
                disk.passed = False
            nvme = None
        elif 3 <= len(row) <= 6 and row[0].startswith("/dev") and row[1] in ("NVME", "NVMe"):
            nvme = disks.setdefault(row[0], Disk(row[0], protocol="NVMe", model=" ".join(row[2:]), passed=True))
        elif nvme is not None and ":" in " ".join(row):
            key, _, value = " ".join(row).partition(":")
            _text_value(nvme, key.strip(), value.strip())
    return disks


_ATTRIBUTE = re.compile(r"^\s*(\d{1,3})\s+(\S+)\s+(\S+)\s+\d+\s+\d+\s+\S+\s+(.*)$")
_KEY_VALUE = re.compile(r"^([A-Za-z][^:]{2,60}):\s+(.*)$")


def _from_text(lines: list[str], item: str) -> Disk:
    """`smartctl -x` (or `-a`) text: the health line, the attribute table, SAS and NVMe key: value lines."""
    disk = Disk(item)
    for line in lines:
        attribute = _ATTRIBUTE.match(line)
        if attribute and attribute.group(3)[:2] in ("0x", "PO", "-O", "P-", "--", "-X", "POS", "PO-"):
            rest = attribute.group(4).split()
            if attribute.group(3).startswith("0x"):  # -a: TYPE UPDATED WHEN_FAILED RAW
                when_failed, raw = (rest[2], rest[3:]) if len(rest) >= 4 else ("", [])
            else:  # -x: WHEN_FAILED RAW
                when_failed, raw = (rest[0], rest[1:]) if len(rest) >= 2 else ("", [])
            value = _number(raw[0]) if raw else None
            ident = int(attribute.group(1))
            _attribute(disk, ident, attribute.group(2), value, "" if when_failed == "-" else when_failed)
            continue
        found = _KEY_VALUE.match(line.strip())
        if not found:
            continue
        _text_value(disk, found.group(1).strip(), found.group(2).strip())
    return disk


def _text_value(disk: Disk, key: str, value: str) -> None:
    if key == "SMART overall-health self-assessment test result":
        disk.passed = value.upper().startswith("PASSED")
    elif key == "SMART Health Status":
        disk.passed = value.upper() == "OK"
    elif key in ("Device Model", "Model Number", "Product"):
        disk.model = disk.model or value
    elif key == "Serial Number" or key == "Serial number":
        disk.serial = value
    elif key == "Elements in grown defect list":
        disk.grown_defects = _number(value)
    elif key == "Current Drive Temperature" or (key == "Temperature" and "Celsius" in value):
        disk.temperature = _number(value)
    elif key == "Critical Warning":
        disk.nvme_critical_warning = int(value, 16) if re.fullmatch(r"0x[0-9a-fA-F]{1,16}", value) else None
    elif key == "Percentage Used":
        disk.nvme_percentage_used = _number(value)
    elif key == "Available Spare":
        disk.nvme_available_spare = _number(value)
    elif key == "Available Spare Threshold":
        disk.nvme_spare_threshold = _number(value)
    elif key == "Media and Data Integrity Errors":
        disk.nvme_media_errors = _number(value)
    elif key == "Device is in STANDBY mode, exit(2)" or "STANDBY" in key:
        disk.standby = True


smart_section = AgentSection("smart", parse_smart)
