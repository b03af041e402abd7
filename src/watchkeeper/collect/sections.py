"""Split agent output in the Checkmk agent format into sections.

    <<<mem>>>
    MemTotal:       16314208 kB
    <<<lnx_if:sep(58)>>>
        lo:   11174     153    0 ...

A header may carry options after colons; `sep(N)` splits lines at the character with code N
(`sep(0)`: do not split), the default splits at runs of whitespace; other options (`cached(…)`,
`persist(…)`, `encoding(…)`) are accepted and ignored. A section that appears twice is one
section with both bodies, in order. `<<<>>>` closes a section. Piggyback data for other hosts
(`<<<<host>>>>` up to `<<<<>>>>`) is not this host's: it is counted and dropped, as are lines
outside any section. A header that cannot be read is reported in `problems`, and the lines
after it are dropped until the next good header: never read into the section before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from watchkeeper.checkapi import StringTable

MAX_NAME = 200
"""Section names are short words; a longer "name" is a damaged line."""


@dataclass(slots=True)
class SplitOutput:
    sections: dict[str, StringTable] = field(default_factory=dict)
    stray_lines: int = 0
    """Lines outside any section (before the first header, after `<<<>>>`, under a bad header)."""
    piggyback_lines: int = 0
    """Lines of piggyback data for other hosts."""
    problems: list[str] = field(default_factory=list)
    """Headers that could not be read, each with its line number (at most `MAX_PROBLEMS`)."""


MAX_PROBLEMS = 20


def split_sections(raw: bytes) -> SplitOutput:
    """Never raises: undecodable bytes become U+FFFD, malformed headers are reported and skipped."""
    text = raw.decode("utf-8", errors="replace")
    out = SplitOutput()
    table: StringTable | None = None
    separator: str | None = None
    whole_line = False
    piggyback = False
    bad_headers = 0
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("<<<<"):
            target = line.rstrip()[4:-4] if line.rstrip().endswith(">>>>") else None
            piggyback = bool(target and target.strip())  # `<<<<>>>>` ends piggyback data
            table = None
            if not piggyback and target is None:
                bad_headers += 1
                _problem(out, number, line, "a piggyback header that does not end in `>>>>`")
            continue
        if piggyback:
            out.piggyback_lines += 1
            continue
        if line.startswith("<<<"):
            header = _parse_header(line)
            if isinstance(header, str):
                table = None
                bad_headers += 1
                _problem(out, number, line, header)
                continue
            name, separator, whole_line = header
            table = out.sections.setdefault(name, []) if name else None
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
    if bad_headers > MAX_PROBLEMS:
        out.problems.append(f"... and {bad_headers - MAX_PROBLEMS} more unreadable section headers")
    return out


def _problem(out: SplitOutput, number: int, line: str, why: str) -> None:
    if len(out.problems) < MAX_PROBLEMS:
        shown = line if len(line) <= 60 else line[:60] + f"... ({len(line)} characters)"
        out.problems.append(f"line {number}: unreadable section header {shown!r}: {why}")


def _parse_header(line: str) -> tuple[str, str | None, bool] | str:
    """(name, separator, whole lines), or why the header cannot be read."""
    stripped = line.rstrip()
    if not stripped.endswith(">>>"):
        return "it does not end in `>>>`"
    name, *options = stripped[3:-3].split(":")
    if len(name) > MAX_NAME:
        return f"a section name of {len(name)} characters"
    if name and not name.replace("_", "").replace("-", "").replace(".", "").isalnum():
        return "the name is not letters, digits, '_', '-' and '.'"
    separator: str | None = None
    whole_line = False
    for option in options:
        if option.startswith("sep(") and option.endswith(")"):
            code = option[4:-1]
            if not code.isdecimal() or len(code) > 7 or int(code) > 0x10FFFF:
                return f"sep() needs a character code from 0 to {0x10FFFF}"
            if int(code) == 0:
                whole_line = True
            else:
                separator = chr(int(code))
    return name, separator, whole_line
