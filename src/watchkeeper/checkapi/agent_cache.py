"""Results the Checkmk agent computed earlier and prints from its cache: lines of mrpe and local
checks that begin with `cached(TIME,INTERVAL)`. Such a result is stale after two intervals."""

from __future__ import annotations

from watchkeeper.checkapi.parsing import to_float

PREFIX = "cached("


def split_cached(text: str) -> tuple[float | None, float | None, str]:
    """`cached(1700000000,3600) 0 Name text` -> (1700000000.0, 3600.0, "0 Name text");
    (None, None, text) for a line without the mark. A number that is no number is None."""
    if not text.startswith(PREFIX) or ")" not in text:
        return None, None, text
    inside, _, rest = text[len(PREFIX):].partition(")")
    first, _, second = inside.partition(",")
    return to_float(first), to_float(second), rest.strip()


def cache_age(cached_at: float | None, interval: float | None, now: float) -> str | None:
    """`cached result is 7300 s old (it runs every 3600 s)` once it is older than two intervals."""
    if cached_at is None or not interval or now - cached_at <= 2 * interval:
        return None
    return f"cached result is {now - cached_at:.0f} s old (it runs every {interval:.0f} s)"
