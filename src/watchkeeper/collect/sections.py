"""Split agent output in the Checkmk agent format into sections.

    <<<mem>>>
    MemTotal:       16314208 kB
    <<<lnx_if:sep(58)>>>
        lo:   11174     153    0 ...

A header may carry options after colons; `sep(N)` splits lines at the character with code N
(`sep(0)`: do not split), the default splits at runs of whitespace; other options (`cached(…)`,
`persist(…)`, `encoding(…)`) are accepted and ignored. A section that appears twice is one
section with both bodies, in order. `<<<>>>` closes a section. Piggyback data for other hosts
(`<<<<host>>>>` up to `<<<<>>>>`, as hypervisors and special agents send it) is not this host's:
it is kept apart per host in `piggyback`, for those hosts. Lines outside any section are
counted and dropped. A header that cannot be read is reported in `problems`, and the lines
after it are dropped until the next good header: never read into the section before it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from watchkeeper.checkapi import StringTable

MAX_NAME = 200
"""Section names are short words; a longer "name" is a damaged line."""
SOURCES_SECTION = "piggyback_sources"
"""Added to piggyback data by the daemon: one line per source host, `NAME AGE_SECONDS`."""


Body = tuple[str | None, bool, str]
"""(separator, whole lines, text) of one occurrence of a section."""


@dataclass(slots=True)
class SplitOutput:
    sections: dict[str, StringTable] = field(default_factory=dict)
    stray_lines: int = 0
    """Lines outside any section (before the first header, after `<<<>>>`, under a bad header)."""
    piggyback_lines: int = 0
    """Lines of piggyback data for other hosts."""
    piggyback: dict[str, list[str]] = field(default_factory=dict)
    """Per other host (the name as written in `<<<<host>>>>`, stripped): its agent text, in
    pieces that end in a line break."""
    problems: list[str] = field(default_factory=list)
    """Headers that could not be read, each with its line number (at most `MAX_PROBLEMS`)."""
    fingerprints: dict[str, int] = field(default_factory=dict)
    """A hash of each section's headers and bodies: equal text, equal table (the engine keeps
    what it parsed from a text until the text changes). A hash, not the text: a host's
    output is kept as a few integers, not as a second copy."""
    unchanged: frozenset[str] = frozenset()
    """Sections whose fingerprint equals the caller's: their tables are left empty (`table()`
    splits one when it is needed after all)."""
    unsplit: dict[str, list[Body]] = field(default_factory=dict)

    def table(self, name: str) -> StringTable:
        """A section's rows, split now if it was left unsplit."""
        parts = self.unsplit.pop(name, None)
        if parts is not None:
            self.sections[name] = _tokenize(parts)
        return self.sections[name]


MAX_PROBLEMS = 20


_OTHER_LINE_BREAKS = ("\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e")
_OTHER_LINE_BREAKS_UNICODE = ("\x85", "\u2028", "\u2029")
"""Line breaks besides \\n that `str.splitlines` honours: such output takes the line-by-line path.
(Each is looked for with `in`: a regular expression with these characters took 50 µs per 10 KB.)"""


def _other_line_breaks(text: str) -> bool:
    return (any(mark in text for mark in _OTHER_LINE_BREAKS)
            or (not text.isascii() and any(mark in text for mark in _OTHER_LINE_BREAKS_UNICODE)))


def _header_lines(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each line that begins with `<<<`, found with `str.find`, five times
    faster than a multi-line regular expression."""
    position = 0 if text.startswith("<<<") else text.find("\n<<<")
    while position != -1:
        start = position if position == 0 and text.startswith("<<<") else position + 1
        end = text.find("\n", start)
        if end == -1:
            end = len(text)
        yield start, end
        position = text.find("\n<<<", end)

def split_sections(raw: bytes, known: Mapping[str, int] | None = None) -> SplitOutput:
    """Never raises: undecodable bytes become U+FFFD, malformed headers are reported and skipped.

    `known`: fingerprints of sections the caller already holds tables for (`fingerprints` of
    an earlier output); a section whose text is the same is listed in `unchanged`, not split.
    Headers are found with `str.find` and each body is split in one pass, which
    is about twice as fast as reading line by line; output with other line breaks than
    `\\n` (CR, form feed...) is read line by line, as before."""
    text = raw.decode("utf-8", errors="replace")
    if _other_line_breaks(text):
        return split_line_by_line(text)
    out = SplitOutput()
    bodies: dict[str, list[Body]] = {}
    headers: dict[str, list[str]] = {}
    current: list[Body] | None = None
    separator: str | None = None
    whole_line = False
    piggyback: list[str] | None = None
    bad_headers = 0
    position = 0
    for start, end in _header_lines(text):
        _body(out, current, piggyback, separator, whole_line, text[position:start])
        position = end + 1
        line = text[start:end]
        current = None
        if line.startswith("<<<<"):
            piggyback, bad = _piggyback_header(out, line)
            if bad:
                bad_headers += 1
                _problem(out, text.count("\n", 0, start) + 1, line, bad)
            continue
        if piggyback is not None:
            out.piggyback_lines += 1
            piggyback.append(line + "\n")
            continue
        header = _parse_header(line)
        if isinstance(header, str):
            bad_headers += 1
            _problem(out, text.count("\n", 0, start) + 1, line, header)
            continue
        name, separator, whole_line = header
        if name:
            current = bodies.setdefault(name, [])
            headers.setdefault(name, []).append(line)
    _body(out, current, piggyback, separator, whole_line, text[position:])
    unchanged = []
    for name, parts in bodies.items():
        whole = hash((*headers[name], *[part[2] for part in parts]))  # hashes the texts without copying them
        out.fingerprints[name] = whole
        if known is not None and known.get(name) == whole:
            out.sections[name] = []
            out.unsplit[name] = parts
            unchanged.append(name)
        else:
            out.sections[name] = _tokenize(parts)
    out.unchanged = frozenset(unchanged)
    if bad_headers > MAX_PROBLEMS:
        out.problems.append(f"... and {bad_headers - MAX_PROBLEMS} more unreadable section headers")
    return out


def _tokenize(parts: list[Body]) -> StringTable:
    table: StringTable = []
    for separator, whole_line, body in parts:
        lines = body.splitlines()
        if whole_line:
            table += [[line] for line in lines if line.strip()]
        elif separator is None:
            table += [fields for fields in map(str.split, lines) if fields]
        else:
            table += [line.split(separator) for line in lines if line.strip()]
    return table


def _piggyback_header(out: SplitOutput, line: str) -> tuple[list[str] | None, str]:
    """Where the lines after `<<<<host>>>>` go (None: to this host), and why the header is bad."""
    stripped = line.rstrip()
    if not stripped.endswith(">>>>"):
        return None, "a piggyback header that does not end in `>>>>`"
    target = stripped[4:-4].strip()
    if not target:  # `<<<<>>>>` ends piggyback data
        return None, ""
    return out.piggyback.setdefault(target, []), ""


def _body(out: SplitOutput, current: list[Body] | None, piggyback: list[str] | None, separator: str | None,
          whole_line: bool, body: str) -> None:
    if current is not None:
        current.append((separator, whole_line, body))
    elif piggyback is not None:
        if body:
            out.piggyback_lines += body.count("\n") + (not body.endswith("\n"))
            piggyback.append(body if body.endswith("\n") else body + "\n")
    else:
        out.stray_lines += sum(1 for line in body.split("\n") if line.strip())


def split_line_by_line(text: str) -> SplitOutput:
    """The reference reading, one line at a time (for output with unusual line breaks)."""
    out = SplitOutput()
    table: StringTable | None = None
    separator: str | None = None
    whole_line = False
    piggyback: list[str] | None = None
    bad_headers = 0
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("<<<<"):
            piggyback, bad = _piggyback_header(out, line)
            table = None
            if bad:
                bad_headers += 1
                _problem(out, number, line, bad)
            continue
        if piggyback is not None:
            out.piggyback_lines += 1
            piggyback.append(line + "\n")
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


@functools.lru_cache(maxsize=4096)  # the same few dozen headers come from every host, every cycle
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
