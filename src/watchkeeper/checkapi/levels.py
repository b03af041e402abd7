"""Levels and their evaluation: fixed upper/lower levels and Nagios threshold ranges.

Nagios range syntax (monitoring plugins development guidelines):

    10      alert outside 0..10          10:     alert below 10
    ~:10    alert above 10               10:20   alert outside 10..20
    @10:20  alert inside 10..20 (inclusive)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from watchkeeper.model.verdicts import Metric, Result, State


@dataclass(frozen=True, slots=True)
class Fixed:
    """Two levels: as upper levels WARN at >= warn, CRIT at >= crit; as lower levels, below them."""

    warn: float
    crit: float


class LevelsError(ValueError):
    """A threshold could not be read; the message shows the syntax that is accepted."""


@dataclass(frozen=True, slots=True)
class Range:
    """One Nagios range: alerts when the value is outside start..end, or inside when `inside`."""

    start: float
    end: float
    inside: bool = False
    text: str = ""

    @classmethod
    def parse(cls, text: str) -> Range:
        spec = text.strip()
        inside = spec.startswith("@")
        body = spec[1:] if inside else spec
        if not body:
            raise LevelsError(f"threshold {text!r} is empty; use N, N:, ~:N, N:M or @N:M")
        if ":" in body:
            low_text, high_text = body.split(":", 1)
        else:
            low_text, high_text = "0", body
        try:
            start = -math.inf if low_text == "~" else float(low_text or 0)
            end = math.inf if high_text == "" else float(high_text)
        except ValueError:
            raise LevelsError(
                f"threshold {text!r} is not a Nagios range; use N, N:, ~:N, N:M or @N:M"
            ) from None
        if start > end:
            raise LevelsError(f"threshold {text!r}: start {start:g} is above end {end:g}")
        return cls(start, end, inside, spec)

    def alerts(self, value: float) -> bool:
        within = self.start <= value <= self.end
        return within if self.inside else not within


@dataclass(frozen=True, slots=True)
class NagiosLevels:
    """A warning and a critical Nagios range, as plugins take them with `-w` and `-c`."""

    warn: Range | None = None
    crit: Range | None = None

    @classmethod
    def parse(cls, warn: str | None, crit: str | None) -> NagiosLevels:
        return cls(Range.parse(warn) if warn else None, Range.parse(crit) if crit else None)


Levels = Fixed | NagiosLevels


def levels_from_json(value: object) -> Levels | None:
    """Levels as they are stored in rules: `[warn, crit]`, `{"warn": .., "crit": ..}` or None.

    Numbers make fixed levels; strings make Nagios ranges (`{"warn": "10:", "crit": "@0:5"}`).
    """
    if value is None:
        return None
    if isinstance(value, list | tuple) and len(value) == 2:
        warn, crit = value
    elif isinstance(value, dict) and set(value) <= {"warn", "crit"}:
        warn, crit = value.get("warn"), value.get("crit")
    else:
        raise LevelsError(f"levels {value!r}: expected [warn, crit] or {{'warn': .., 'crit': ..}}")
    if isinstance(warn, str) or isinstance(crit, str):
        return NagiosLevels.parse(_opt_str(warn), _opt_str(crit))
    if isinstance(warn, (int, float)) and isinstance(crit, (int, float)):
        return Fixed(float(warn), float(crit))
    raise LevelsError(f"levels {value!r}: warn and crit must both be numbers, or range strings")


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)


def check_levels(
    value: float,
    *,
    levels_upper: Levels | None = None,
    levels_lower: Fixed | None = None,
    metric_name: str | None = None,
    label: str,
    render_func: Callable[[float], str],
    boundaries: tuple[float | None, float | None] | None = None,
    notice_only: bool = False,
) -> Iterator[Result | Metric]:
    """Judge a value against its levels, yield a Result worded `label: value (warn/crit at ...)`.

    The levels are named in the text only when they are what made the state non-OK.
    """
    state, levels_text = State.OK, ""
    if isinstance(levels_upper, Fixed):
        if value >= levels_upper.crit:
            state = State.CRIT
        elif value >= levels_upper.warn:
            state = State.WARN
        if state is not State.OK:
            levels_text = (
                f" (warn/crit at {render_func(levels_upper.warn)}/{render_func(levels_upper.crit)})"
            )
    elif isinstance(levels_upper, NagiosLevels):
        if levels_upper.crit and levels_upper.crit.alerts(value):
            state, levels_text = State.CRIT, f" (critical range {levels_upper.crit.text})"
        elif levels_upper.warn and levels_upper.warn.alerts(value):
            state, levels_text = State.WARN, f" (warning range {levels_upper.warn.text})"
    if state is State.OK and levels_lower is not None:
        if value < levels_lower.crit:
            state = State.CRIT
        elif value < levels_lower.warn:
            state = State.WARN
        if state is not State.OK:
            levels_text = (
                f" (warn/crit below {render_func(levels_lower.warn)}/{render_func(levels_lower.crit)})"
            )
    summary = f"{label}: {render_func(value)}{levels_text}"
    yield Result(state, "" if notice_only and state is State.OK else summary,
                 details=summary if notice_only else "")
    if metric_name:
        yield Metric(metric_name, value, levels=_metric_levels(levels_upper), boundaries=boundaries)


def _metric_levels(levels: Levels | None) -> tuple[float, float] | None:
    """Levels to draw in graphs: fixed upper levels, or the upper ends of plain Nagios ranges."""
    if isinstance(levels, Fixed):
        return (levels.warn, levels.crit)
    if isinstance(levels, NagiosLevels) and levels.warn and levels.crit:
        ends = (levels.warn.end, levels.crit.end)
        if not levels.warn.inside and not levels.crit.inside and all(map(math.isfinite, ends)):
            return ends
    return None
