"""Human-readable renderings of values in base units. Every function takes any float, also
infinities and NaN from damaged output, and returns text: rendering never fails a check."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

_IEC = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def bytes_(value: float) -> str:
    """`1536` -> `1.50 KiB`; IEC units because disks and memory are sized in them."""
    if not math.isfinite(value):
        return f"{value} B"
    magnitude = abs(value)
    index = 0
    while magnitude >= 1024.0 and index < len(_IEC) - 1:
        magnitude /= 1024.0
        index += 1
    sign = "-" if value < 0 else ""
    if index == 0:
        return f"{sign}{magnitude:.0f} B"
    return f"{sign}{magnitude:.2f} {_IEC[index]}"


def bytes_per_second(value: float) -> str:
    return f"{bytes_(value)}/s"


def percent(value: float) -> str:
    return f"{value:.2f}%"


def number(value: float) -> str:
    return f"{value:.2f}"


def count(value: float) -> str:
    """A whole count, as people write it in a summary: `9287`."""
    if isinstance(value, int):  # exact, and no float conversion that a huge count would overflow
        return str(value) if -10**30 < value < 10**30 else "a number of more than 30 digits"
    return str(round(value)) if math.isfinite(value) else str(value)


def per_second(value: float) -> str:
    return f"{value:.2f}/s"


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1000.0:.2f} ms"


_SPANS = (("year", 365 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


def timespan(seconds: float) -> str:
    """`93784` -> `1 day 2 hours`: the two largest units, enough to act on."""
    if not math.isfinite(seconds):
        return f"{seconds} seconds"
    if seconds < 1.0:
        return f"{seconds:.2f} seconds"
    whole = int(seconds)
    for index, (unit, size) in enumerate(_SPANS):
        if whole >= size:
            count, rest = divmod(whole, size)
            text = _plural(count, unit)
            if index + 1 < len(_SPANS):
                next_unit, next_size = _SPANS[index + 1]
                if rest // next_size:
                    text += " " + _plural(rest // next_size, next_unit)
            return text
    return _plural(whole, "second")  # unreachable: seconds >= 1 matches the last span


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}{'' if count == 1 else 's'}"


def datetime(epoch: float) -> str:
    try:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))
    except (OverflowError, OSError, ValueError):  # before year 1 or after 9999, or NaN
        return f"{epoch:.0f} seconds since 1970"


def listing(names: Sequence[str], shown: int = 5) -> str:
    """`a, b, c, d, e and 3 more`: the first few of a list that may be long, and how many are left."""
    return ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")
