"""MegaCli text: `-LDInfo -Lall -aAll`, `-PDList -aAll`, `-LdPdInfo -aAll`, `-AdpBbuCmd -aAll`.

Everything is `Key: Value` lines (with or without spaces around the colon); a block starts
at `Adapter`, `Virtual Drive:`/`Virtual Disk:`, `Enclosure Device ID:` or `BBU status for Adapter:`.
"""

from __future__ import annotations

import re

from watchkeeper.checkapi import to_float
from watchkeeper.plugins.megaraid.model import Battery, MegaRaid, PhysicalDrive, VirtualDrive, pd_item, write_policy

_ADAPTER = re.compile(r"^Adapter\s*#?\s*(\d+)")
_VD = re.compile(r"^Virtual (?:Drive|Disk)\s*:\s*(\d+)")
_REBUILD = re.compile(r"Rebuild Progress on Device at Enclosure (\d+), Slot (\d+) Completed (\d+)% in (\d+) Minutes")


def read(raid: MegaRaid, lines: list[str]) -> None:
    adapter = "0"
    vd: VirtualDrive | None = None
    pd: PhysicalDrive | None = None
    enclosure = ""
    for raw in lines:
        line = raw.strip()
        found = _ADAPTER.match(line) or re.match(r"^BBU status for Adapter\s*:\s*(\d+)", line)
        if found:
            adapter, vd, pd = found.group(1), None, None
            if line.startswith("BBU"):
                raid.batteries[f"c{adapter}"] = Battery(f"c{adapter}", "BBU")
            continue
        found = _VD.match(line)
        if found:
            item = f"c{adapter}/v{found.group(1)}"
            vd, pd = raid.vds.setdefault(item, VirtualDrive(item, "")), None
            continue
        rebuild = _REBUILD.search(line)
        if rebuild:
            _rebuild(raid, adapter, rebuild)
            continue
        key, colon, value = line.partition(":")
        if not colon:
            continue
        key, value = " ".join(key.split()), value.strip()
        if key == "Enclosure Device ID":
            enclosure, vd, pd = ("" if value in ("N/A", "") else value), None, None
        elif key == "Slot Number":
            pd = raid.pd(pd_item(adapter, enclosure, value))
        elif pd is not None:
            _pd_value(pd, key, value)
        elif vd is not None:
            _vd_value(vd, key, value)
        battery = raid.batteries.get(f"c{adapter}")
        if battery is not None and pd is None and vd is None:
            _battery_value(battery, key, value)


def _pd_value(pd: PhysicalDrive, key: str, value: str) -> None:
    if key == "Firmware state":
        pd.state = value
    elif key in ("Media Error Count", "Other Error Count", "Predictive Failure Count"):
        number = to_float(value) if value.isdigit() else None
        attribute = {"Media Error Count": "media_errors", "Other Error Count": "other_errors",
                     "Predictive Failure Count": "predictive_failures"}[key]
        setattr(pd, attribute, number)
    elif key == "Inquiry Data":
        pd.model = " ".join(value.split())
    elif key == "Raw Size":
        pd.size = value.split("[")[0].strip()
    elif key == "Drive has flagged a S.M.A.R.T alert":
        pd.smart_alert = value == "Yes"


def _vd_value(vd: VirtualDrive, key: str, value: str) -> None:
    if key == "State":
        vd.state = value
    elif key == "Name":
        vd.name = value
    elif key == "RAID Level":
        vd.raid = value
    elif key == "Size":
        vd.size = value
    elif key == "Default Cache Policy":
        vd.configured_write_policy = write_policy(value.split(",")[0])
    elif key == "Current Cache Policy":
        vd.write_policy = write_policy(value.split(",")[0])
    elif key == "Disk Cache Policy":
        vd.disk_cache = value


def _battery_value(battery: Battery, key: str, value: str) -> None:
    if key == "Battery State" and value:
        battery.state = value
    elif key == "Battery Replacement required":
        battery.replacement_required = value == "Yes"
    elif key == "BatteryType":
        battery.model = value


def _rebuild(raid: MegaRaid, adapter: str, found: re.Match[str]) -> None:
    pd = raid.pd(pd_item(adapter, found.group(1), found.group(2)))
    percent, minutes = float(found.group(3)), float(found.group(4))
    pd.rebuild_percent = percent
    if 0 < percent < 100:
        pd.rebuild_seconds_left = minutes * 60.0 * (100.0 - percent) / percent
