"""What a Nagios-compatible plugin prints, read as the plugin guidelines define it.

    DISK OK - free space: / 3326 MB (56%); | /=2643MB;5948;5958;0;5968
    / 15272 MB (77%);                                   <- long output
    /boot 68 MB (69%); | /boot=68MB;88;93;0;98           <- more perfdata after a later '|'
    /home=69357MB;253404;253409;0;253414                 <- every line after it is perfdata

Perfdata is `'label'=value[UOM];[warn];[crit];[min];[max]`, space separated; a label with
spaces is quoted, a quote inside it doubled. A token that does not fit is reported, never
fatal: the status line and the other values still count.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from watchkeeper.model.verdicts import Metric

# UOM -> (factor to the base unit, suffix that names the unit in our metric names)
UNITS: dict[str, tuple[float, str]] = {
    "": (1.0, ""),
    "s": (1.0, "_seconds"),
    "ms": (1e-3, "_seconds"),
    "us": (1e-6, "_seconds"),
    "%": (1.0, "_percent"),
    "B": (1.0, "_bytes"),
    "KB": (1024.0, "_bytes"),
    "MB": (1024.0**2, "_bytes"),
    "GB": (1024.0**3, "_bytes"),
    "TB": (1024.0**4, "_bytes"),
    "c": (1.0, "_total"),
}

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_VALUE = re.compile(rf"({_NUMBER}|U)([a-zA-Z%]*)")
_TOKEN = re.compile(r"\s*('(?:[^']|'')+'|[^'=\s][^=\s]*)=(\S*)")


@dataclass(frozen=True, slots=True)
class PerfValue:
    label: str
    value: float | None
    """None for `U`: the plugin could not determine the value."""
    uom: str = ""
    warn: str = ""
    crit: str = ""
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True, slots=True)
class PluginOutput:
    summary: str
    long_output: str
    perfdata: tuple[PerfValue, ...]
    problems: tuple[str, ...]
    """Perfdata tokens that did not parse, each with the reason."""


def parse_plugin_output(text: str) -> PluginOutput:
    lines = text.replace("\r\n", "\n").split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    first, _, perf_text = (lines[0] if lines else "").partition("|")
    long_lines: list[str] = []
    perf_chunks = [perf_text]
    rest = iter(lines[1:])
    for line in rest:
        if "|" in line:
            text_part, _, perf_part = line.partition("|")
            if text_part.strip():
                long_lines.append(text_part.rstrip())
            perf_chunks.append(perf_part)
            perf_chunks.extend(rest)  # from the second '|' on, every line is perfdata
            break
        long_lines.append(line.rstrip())
    values: list[PerfValue] = []
    problems: list[str] = []
    for chunk in perf_chunks:
        _parse_perfdata(chunk, values, problems)
    return PluginOutput(first.strip(), "\n".join(long_lines).strip("\n"), tuple(values), tuple(problems))


def _parse_perfdata(text: str, values: list[PerfValue], problems: list[str]) -> None:
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            junk = text[position:].split(None, 1)[0] if text[position:].strip() else ""
            if junk:
                problems.append(f"{junk!r} is not label=value")
            position = text.find(junk, position) + len(junk) if junk else len(text)
            continue
        position = match.end()
        label = match.group(1)
        if label.startswith("'"):
            label = label[1:-1].replace("''", "'")
        value = _perf_value(label, match.group(2), problems)
        if value is not None:
            values.append(value)


def _perf_value(label: str, text: str, problems: list[str]) -> PerfValue | None:
    fields = text.split(";")
    match = _VALUE.fullmatch(fields[0])
    if match is None:
        problems.append(f"{label}: value {fields[0]!r} is not a number")
        return None
    number, uom = match.groups()
    if uom not in UNITS:
        problems.append(f"{label}: unit {uom!r} is not one of {', '.join(u for u in UNITS if u)}")
        return None
    fields += [""] * (5 - len(fields))
    return PerfValue(label, None if number == "U" else float(number), uom, fields[1], fields[2],
                     _optional_number(fields[3]), _optional_number(fields[4]))


def _optional_number(text: str) -> float | None:
    try:
        number = float(text) if text else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def metric_name(perf: PerfValue) -> str:
    """The label with the unit's suffix, so graphs know the unit: `time` in ms -> `time_seconds`."""
    suffix = UNITS[perf.uom][1]
    return perf.label if perf.label.endswith(suffix) else perf.label + suffix


def to_metrics(perfdata: tuple[PerfValue, ...]) -> list[Metric]:
    """Perfdata in base units (seconds, bytes); `U` values are left out, levels are kept where
    they are plain upper limits (`80`, `0:80`)."""
    metrics = []
    for perf in perfdata:
        if perf.value is None or not math.isfinite(perf.value):
            continue
        factor = UNITS[perf.uom][0]
        warn, crit = _upper_limit(perf.warn), _upper_limit(perf.crit)
        levels = (warn * factor, crit * factor) if warn is not None and crit is not None else None
        low = None if perf.min is None else perf.min * factor
        high = None if perf.max is None else perf.max * factor
        metrics.append(Metric(metric_name(perf), perf.value * factor, levels,
                              (low, high) if low is not None or high is not None else None))
    return metrics


def _upper_limit(threshold: str) -> float | None:
    """The upper end of a threshold range (`10`, `0:10`), None for anything else (`@..`, `10:`)."""
    if not threshold or threshold.startswith("@"):
        return None
    start, _, end = threshold.rpartition(":")
    if start not in ("", "0", "~") and not start.lstrip("-").replace(".", "", 1).isdigit():
        return None
    if not end:
        return None
    try:
        return float(end)
    except ValueError:
        return None
