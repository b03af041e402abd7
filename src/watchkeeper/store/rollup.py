"""The coarser metric tiers, rolled up in memory: a sample is written once, to the 1-minute
tier, and each 5-minute and 1-hour bucket is written as one row when it closes.

Before this, every sample was three upserts (one per tier), a third of the daemon's writing.
A sample is folded in after its batch is committed, and a closed bucket is written with the
next batch. An open bucket lives only in memory: `drain()` writes it at shutdown, and a bucket written
twice (a restart inside it) is merged by the upsert. A `kill -9` costs the coarse tiers the
open buckets' samples; the 1-minute tier has them.
"""

from __future__ import annotations

from watchkeeper.store.schema import METRIC_TIERS

COARSE_TIERS = tuple((tier, step, slots) for tier, (step, slots) in enumerate(METRIC_TIERS) if tier)

PointRow = tuple[int, int, int, int, int, float, float, float]
"""(series, tier, slot, bucket, n, total, lo, hi): one row of `UPSERT_POINT`."""


class Rollups:
    def __init__(self) -> None:
        self.open: dict[tuple[int, int], tuple[float, int, float, float, float]] = {}
        """(series, tier) -> [bucket, n, total, lo, hi] of the bucket still filling."""
        self.closed: list[PointRow] = []
        """Buckets closed since the last write: written with the next batch."""

    def add(self, series: int, ts: float, value: float) -> None:
        """Fold one sample that is already stored in the 1-minute tier (so a batch that failed
        and is written again is not counted twice); a bucket that closes joins `closed`.
        Buckets are tuples of numbers, which the garbage collector stops tracking: a list per
        series and tier made every full collection longer (80,000 of them at 2,000 hosts)."""
        open_buckets = self.open
        for tier, step, slots in COARSE_TIERS:
            bucket = ts // step
            key = (series, tier)
            acc = open_buckets.get(key)
            if acc is None or acc[0] != bucket:
                if acc is not None:
                    if bucket < acc[0]:
                        continue  # older than the open bucket (a clock step back): the 1-minute tier has it
                    self.closed.append(_row(series, tier, slots, acc))
                open_buckets[key] = (bucket, 1, value, value, value)
            else:
                _, n, total, lo, hi = acc
                open_buckets[key] = (bucket, n + 1, total + value, value if value < lo else lo,
                                     value if value > hi else hi)

    def drain(self) -> list[PointRow]:
        """Every closed and open bucket as a row (at shutdown); they are forgotten."""
        rows = self.closed + [_row(series, tier, METRIC_TIERS[tier][1], acc)
                              for (series, tier), acc in self.open.items()]
        self.open.clear()
        self.closed = []
        return rows

    def forget(self, series: set[int]) -> None:
        self.open = {key: acc for key, acc in self.open.items() if key[0] not in series}
        self.closed = [row for row in self.closed if row[0] not in series]


def _row(series: int, tier: int, slots: int, acc: tuple[float, int, float, float, float]) -> PointRow:
    bucket = int(acc[0])
    return (series, tier, bucket % slots, bucket, int(acc[1]), acc[2], acc[3], acc[4])
