"""Split agent output in the Checkmk agent format into sections.

    <<<mem>>>
    MemTotal:       16314208 kB
    <<<lnx_if:sep(58)>>>
        lo:   11174     153    0 ...

A header may carry options after colons; `sep(N)` splits lines at the character with code N
(`sep(0)`: do not split), the default splits at runs of whitespace. A section that appears
twice is one section with both bodies, in order. `<<<>>>` closes a section; lines outside
any section and piggyback data for other hosts (`<<<<host>>>>`) are counted and dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from watchkeeper.checkapi import StringTable


@dataclass(slots=True)
class SplitOutput:
    sections: dict[str, StringTable] = field(default_factory=dict)
    stray_lines: int = 0
    """Lines outside any section (before the first header, after `<<<>>>`, piggyback data)."""


def split_sections(raw: bytes) -> SplitOutput:
    """Never raises: undecodable bytes become U+FFFD, malformed headers are stray lines."""
    text = raw.decode("utf-8", errors="replace")
    out = SplitOutput()
    table: StringTable | None = None
    separator: str | None = None
    whole_line = False
    for line in text.splitlines():
        if line.startswith("<<<"):
            if line.startswith("<<<<"):  # piggyback data for another host: not ours to judge
                table = None
                continue
            header = _parse_header(line)
            if header is None:
                table = None
                out.stray_lines += 1
                continue
            name, separator, whole_line = header
            if not name:
                table = None
                continue
            table = out.sections.setdefault(name, [])
            continue
        if table is None:
            if line.strip():
                out.stray_lines += 1
            continue
        if not line.strip():
            continue
        if whole_line:
            table.append([line])
        elif separator is None:
            table.append(line.split())
        else:
            table.append(line.split(separator))
    return out


def _parse_header(line: str) -> tuple[str, str | None, bool] | None:
    stripped = line.rstrip()
    if not stripped.endswith(">>>"):
        return None
    name, *options = stripped[3:-3].split(":")
    if not name.replace("_", "").replace("-", "").replace(".", "").isalnum() and name:
        return None
    separator: str | None = None
    whole_line = False
    for option in options:
        if option.startswith("sep(") and option.endswith(")"):
            code = option[4:-1]
            if not code.isdecimal() or int(code) > 0x10FFFF:
                return None
            if int(code) == 0:
                whole_line = True
            else:
                separator = chr(int(code))
    return name, separator, whole_line
