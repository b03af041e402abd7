"""LVM's text reports, for LVM releases without `--reportformat json` (before 2.02.158) and for
the Checkmk agent's `lvm` plugin:

      VG     #PV #LV #SN Attr   VSize   VFree           <- a report as a person reads it
      vgtest   2   5   0 wz-pn- 592.00m 104.00m
      vgtest|2|5|0|wz--n-|620756992|109051904          <- --noheadings --separator '|' (bytes)

Each row becomes the dictionary a JSON report would have held (`vg_name`, `vg_size`, ...), so
one reader serves both. A row with a header is read by column position (empty columns, such as
an LV without a pool, leave gaps that splitting at blanks would close); a row without one by
the column order the caller names. Sizes may carry LVM's unit letters: lower case in powers of
1024, upper case in powers of 1000.
"""

from __future__ import annotations

import re

from watchkeeper.checkapi import to_float

HEADERS = {
    "VG": "vg_name", "#PV": "pv_count", "#LV": "lv_count", "#SN": "snap_count", "Attr": "attr",
    "VSize": "vg_size", "VFree": "vg_free", "PV": "pv_name", "Fmt": "pv_fmt", "PSize": "pv_size",
    "PFree": "pv_free", "LV": "lv_name", "LSize": "lv_size", "Pool": "pool_lv", "Origin": "origin",
    "Data%": "data_percent", "Meta%": "metadata_percent",
}
_ATTR = {"vgs": "vg_attr", "pvs": "pv_attr", "lvs": "lv_attr"}
DEFAULT_COLUMNS = {
    "vgs": ["vg_name", "pv_count", "lv_count", "snap_count", "vg_attr", "vg_size", "vg_free"],
    "lvs": ["lv_name", "vg_name", "lv_attr", "lv_size", "pool_lv", "origin", "data_percent", "metadata_percent",
            "move_pv", "mirror_log", "copy_percent", "convert_lv"],
}
"""What `vgs` and `lvs` print without `-o` (the Checkmk plugin's `--noheadings` rows)."""
_UNITS = {"b": 1, "s": 512, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50, "e": 1 << 60,
          "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}
_SIZE = re.compile(r"^<?(\d{1,30}(?:\.\d{1,20})?)([bskmgtpeBKMGTPE]?)$")


def size(text: str) -> str:
    """`592.00m` -> `620756992` (as a string, like a JSON report's values); other text unchanged."""
    found = _SIZE.match(text.strip())
    if found is None:
        return text
    value = to_float(found.group(1))
    if value is None:
        return text
    return repr(value * _UNITS[found.group(2) or "b"])


def rows_with_header(command: str, lines: list[str]) -> list[dict[str, str]]:
    """A report as printed with its header line; lines before the header (warnings) are skipped."""
    header_index = next((i for i, line in enumerate(lines) if line.split()[:1] in (["VG"], ["PV"], ["LV"])), None)
    if header_index is None:
        return []
    spans = [(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+", lines[header_index])]
    entries = []
    for line in lines[header_index + 1:]:
        if not line.strip():
            continue
        entry: dict[str, str] = {}
        for token in re.finditer(r"\S+", line):
            column = max(spans, key=lambda span: _overlap(span, token.start(), token.end()))
            name = HEADERS.get(column[2])
            if name == "attr":
                name = _ATTR[command]
            if name and name not in entry:
                entry[name] = size(token.group()) if name.endswith(("_size", "_free")) else token.group()
        entries.append(entry)
    return entries


def _overlap(span: tuple[int, int, str], start: int, end: int) -> float:
    """How much a token overlaps a header column; ties go to the nearer column."""
    shared = min(span[1], end) - max(span[0], start)
    return shared if shared > 0 else -min(abs(span[0] - end), abs(start - span[1])) / 1000.0


def rows_without_header(fields: list[str], rows: list[list[str]]) -> list[dict[str, str]]:
    return [{name: size(value.strip()) if name.endswith(("_size", "_free")) else value.strip()
             for name, value in zip(fields, row, strict=False)} for row in rows if row and row[0].strip()]
