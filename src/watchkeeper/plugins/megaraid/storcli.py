"""storcli output, in JSON (`/call show all J`, `/call/vall show all J`, `/call/eall/sall show all J`)
and as text (`/cx show all`). Both carry the same `VD LIST` and `PD LIST` tables."""

from __future__ import annotations

import re
from typing import Any

from watchkeeper.checkapi import finite, load_json
from watchkeeper.plugins.megaraid.model import Battery, MegaRaid, VirtualDrive, pd_item, write_policy

_DRIVE = re.compile(r"^Drive /c(\d+)(?:/e(\d+))?/s(\d+)(?: - Detailed Information)?$")
WIDE_COLUMN = {"VD LIST": "Name", "PD LIST": "Model", "BBU_Info": "RetentionTime", "Cachevault_Info": "Model"}
"""The column of each table whose values may hold spaces (`48 hours +`): it takes the words left over."""
_SIZE_UNIT = frozenset(("KB", "MB", "GB", "TB", "PB"))


def read_json(raid: MegaRaid, text: str) -> None:
    data = load_json(text)
    if data is None:
        raid.errors.append("storcli printed no readable JSON")
        return
    for controller in data.get("Controllers", []) if isinstance(data, dict) else []:
        if not isinstance(controller, dict):
            continue
        status: dict[str, Any] = controller["Command Status"] if isinstance(controller.get("Command Status"),
                                                                             dict) else {}
        index = str(status.get("Controller", "0"))
        if str(status.get("Status", "Success")) != "Success":
            detail = status.get("Description") or status.get("Detailed Status") or "failed"
            raid.errors.append(f"storcli c{index}: {detail}")
        response = controller.get("Response Data")
        if isinstance(response, dict):
            _read_response(raid, index, response)


def _read_response(raid: MegaRaid, controller: str, response: dict[str, Any]) -> None:
    for row in _rows(response.get("VD LIST")):
        _vd_row(raid, controller, row)
    for row in _rows(response.get("PD LIST")):
        _pd_row(raid, controller, row)
    for kind, key in (("BBU", "BBU_Info"), ("CacheVault", "Cachevault_Info")):
        for row in _rows(response.get(key)):
            _battery_row(raid, controller, kind, row)
    for key, value in response.items():
        if not isinstance(value, dict):
            continue
        drive = _DRIVE.match(key)
        if drive:
            _drive_details(raid, pd_item(drive.group(1), drive.group(2) or "", drive.group(3)), value)
        vd = re.match(r"^VD(\d+) Properties$", key)
        if vd:
            _vd_properties(raid, f"c{controller}/v{vd.group(1)}", value)
    for row in _rows(response.get("Rebuild Progress") or response.get("Rebuild_Progress")):
        _rebuild_row(raid, row)
    for key, value in response.items():
        if key.startswith("/c") and "/v" in key:  # `/c0/v0`: the VD row of a /vall query
            for row in _rows(value):
                _vd_row(raid, controller, row)


def _rows(value: Any) -> list[dict[str, Any]]:
    return [row for row in value if isinstance(row, dict)] if isinstance(value, list) else []


def _vd_row(raid: MegaRaid, controller: str, row: dict[str, Any]) -> None:
    group, _, number = str(row.get("DG/VD", "")).partition("/")
    if not number:
        return
    item = f"c{controller}/v{number}"
    vd = raid.vds.setdefault(item, VirtualDrive(item, group))
    vd.raid, vd.state = str(row.get("TYPE", "")), str(row.get("State", ""))
    vd.name, vd.size = str(row.get("Name", "")).strip(), str(row.get("Size", ""))
    vd.write_policy = write_policy(str(row.get("Cache", "")))


def _pd_row(raid: MegaRaid, controller: str, row: dict[str, Any]) -> None:
    enclosure, _, slot = str(row.get("EID:Slt", "")).rpartition(":")
    if not slot:
        return
    pd = raid.pd(pd_item(controller, enclosure, slot))
    pd.state, pd.group = str(row.get("State", "")), str(row.get("DG", "")).strip()
    pd.model, pd.size = str(row.get("Model", "")).strip(), str(row.get("Size", ""))


def _battery_row(raid: MegaRaid, controller: str, kind: str, row: dict[str, Any]) -> None:
    item = f"c{controller}"
    raid.batteries[item] = Battery(item, kind, str(row.get("State", "")), model=str(row.get("Model", "")))


def _drive_details(raid: MegaRaid, item: str, details: dict[str, Any]) -> None:
    for key, value in details.items():
        if key.endswith(" State") and isinstance(value, dict):
            pd = raid.pd(item)
            pd.media_errors = _count(value.get("Media Error Count"))
            pd.other_errors = _count(value.get("Other Error Count"))
            pd.predictive_failures = _count(value.get("Predictive Failure Count"))
            pd.smart_alert = str(value.get("S.M.A.R.T alert flagged by drive", "No")).strip() == "Yes"


def _rebuild_row(raid: MegaRaid, row: dict[str, Any]) -> None:
    """`show rebuild J`: {"Drive-ID": "/c0/e252/s1", "Progress%": 20, "Estimated Time Left": "1 Hours 20 Minutes"}."""
    drive = _DRIVE.match("Drive " + str(row.get("Drive-ID", "")))
    progress = _count(row.get("Progress%"))
    if drive is None or progress is None:
        return
    pd = raid.pd(pd_item(drive.group(1), drive.group(2) or "", drive.group(3)))
    pd.rebuild_percent = progress
    left = re.findall(r"(\d{1,9})\s*(Hour|Minute|Second)", str(row.get("Estimated Time Left", "")))
    if left:
        pd.rebuild_seconds_left = sum(int(n) * {"Hour": 3600, "Minute": 60, "Second": 1}[unit] for n, unit in left)


def _vd_properties(raid: MegaRaid, item: str, properties: dict[str, Any]) -> None:
    vd = raid.vds.setdefault(item, VirtualDrive(item, ""))
    configured = properties.get("Write Cache(initial setting)")
    if configured:
        vd.configured_write_policy = write_policy(str(configured))
    vd.disk_cache = str(properties.get("Disk Cache Policy", vd.disk_cache))


def _count(value: Any) -> float | None:
    return finite(value)


def read_text(raid: MegaRaid, lines: list[str]) -> None:
    """`storcli /call show all` as text: `Controller = N`, then tables under `VD LIST :` and the like."""
    controller = "0"
    index = 0
    while index < len(lines):
        line = lines[index].strip()
        found = re.match(r"^Controller = (\d+)$", line)
        if found:
            controller = found.group(1)
        title = line.rstrip(" :")
        if line.endswith(":") and title in WIDE_COLUMN:
            rows, index = _table(lines, index + 1, WIDE_COLUMN[title])
            for row in rows:
                if title == "VD LIST":
                    _vd_row(raid, controller, row)
                elif title == "PD LIST":
                    _pd_row(raid, controller, row)
                else:
                    _battery_row(raid, controller, "BBU" if title == "BBU_Info" else "CacheVault", row)
            continue
        index += 1


def _table(lines: list[str], index: int, wide: str) -> tuple[list[dict[str, Any]], int]:
    """Rows of a dashed table; a size (`465.25 GB`) is one value, and the `wide` column takes
    the words that are left over (names with spaces) or stays empty."""
    dashes = 0
    header: list[str] = []
    rows: list[dict[str, Any]] = []
    while index < len(lines) and dashes < 3:
        line = lines[index].strip()
        index += 1
        if not line or line.startswith("==="):
            if dashes:
                break
            continue
        if set(line) == {"-"}:
            dashes += 1
            continue
        if dashes == 1 and not header:
            header = line.split()
        elif dashes == 2 and header:
            rows.append(_row(header, _words(line), wide))
    return rows, index


def _words(line: str) -> list[str]:
    words: list[str] = []
    for word in line.split():
        if word in _SIZE_UNIT and words and re.fullmatch(r"[\d.]+", words[-1]):
            words[-1] = f"{words[-1]} {word}"
        else:
            words.append(word)
    return words


def _row(header: list[str], words: list[str], wide_name: str) -> dict[str, Any]:
    wide = header.index(wide_name) if wide_name in header else len(header) - 1
    if len(words) <= len(header):
        return dict(zip(header, words, strict=False))  # an empty last column is left out
    extra = len(words) - len(header)
    row = dict(zip(header[:wide], words[:wide], strict=True))
    row[header[wide]] = " ".join(words[wide:wide + extra + 1])
    row.update(zip(header[wide + 1:], words[wide + extra + 1:], strict=True))
    return row
