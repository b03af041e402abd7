"""A chunk of one metric series: its buckets, compressed to a few bytes each.

A bucket is (bucket number, n, total, lo, hi), as in every tier: the 1-minute tier's bucket
usually holds one sample (n = 1, total = lo = hi = the value), a coarse tier's holds five or
sixty. A chunk stores these as columns, each in the cheapest of a few lossless forms:

- bucket numbers as differences of differences (a check every minute gives only zeros);
- n left out when every bucket holds one sample, lo and hi left out when they equal the value;
- values as integers when they are decimals of up to `MAX_DECIMALS` places, which is what
  agents print ("23.5", "1048576"), stored as differences (flat lines become zeros); other
  values as the XOR of each value's IEEE bits with the previous value's (an unchanged value
  gives zeros, a slowly changing one zeros in its high bytes).

Each column's 8-byte (or 4-byte) integers are then split into byte planes (all first bytes,
then all second bytes, ...), so the zero high bytes of small numbers lie together, and the
whole chunk is deflated once. Everything here runs in C loops of the standard library
(`array`, slicing, `itertools.accumulate`, `zlib`): a bit-level codec such as Gorilla's would
be a loop per bit in Python, tens of times slower, for about the same size after deflate.
"""

from __future__ import annotations

import math
import operator
import struct
import zlib
from array import array
from itertools import accumulate

from watchkeeper.errors import StoreError

Bucket = tuple[int, int, float, float, float]
"""(bucket, n, total, lo, hi)."""

MAX_DECIMALS = 6
FORMAT = 1
_HEADER = struct.Struct("<BBI")  # format, flags, number of buckets
_HAS_N, _HAS_RANGE = 1, 2
_INTS, _XOR = 0, 1
_LIMIT = float(2 ** 53)


def encode(buckets: list[Bucket]) -> bytes:
    """Buckets in ascending order, each bucket number once (see `merge`)."""
    count = len(buckets)
    flags = 0
    parts = [_words(_differences(_differences([b[0] for b in buckets])))]
    counts = [b[1] for b in buckets]
    if any(n != 1 for n in counts):
        flags |= _HAS_N
        parts.append(_words(_differences(counts)))
    parts.append(_values([b[2] for b in buckets]))
    if flags & _HAS_N or not all(_same(b[3], b[2]) and _same(b[4], b[2]) for b in buckets):
        flags |= _HAS_RANGE
        parts.append(_values([b[3] for b in buckets]))
        parts.append(_values([b[4] for b in buckets]))
    return _HEADER.pack(FORMAT, flags, count) + zlib.compress(b"".join(parts), 6)


def decode(blob: bytes) -> list[Bucket]:
    try:
        version, flags, count = _HEADER.unpack_from(blob)
        if version != FORMAT:
            raise StoreError(f"a metric chunk has format {version}, this Watchkeeper reads format {FORMAT}")
        payload = zlib.decompress(blob[_HEADER.size:])
        offset = 0

        def words() -> array[int]:
            nonlocal offset
            column = array("q")
            column.frombytes(_unplanes(payload[offset:offset + 8 * count], 8))
            offset += 8 * count
            if len(column) != count:
                raise ValueError("truncated column")
            return column

        def values() -> list[float]:
            nonlocal offset
            kind, decimals = payload[offset], payload[offset + 1]
            offset += 2
            column = words()
            if kind == _INTS:
                scaled = accumulate(column)
                if decimals:
                    scale = 10 ** decimals
                    return [value / scale for value in scaled]
                return [float(value) for value in scaled]
            bits = array("q", accumulate(column, operator.xor))
            floats = array("d")
            floats.frombytes(bits.tobytes())
            return floats.tolist()

        numbers = list(accumulate(accumulate(words())))
        counts: list[int] = list(accumulate(words())) if flags & _HAS_N else [1] * count
        totals = values()
        lows, highs = (values(), values()) if flags & _HAS_RANGE else (totals, totals)
        return list(zip(numbers, counts, totals, lows, highs, strict=True))
    except (struct.error, zlib.error, ValueError, IndexError, OverflowError) as exc:
        raise StoreError(f"a metric chunk is damaged ({exc}); its points are left out") from exc


def merge(buckets: list[Bucket]) -> list[Bucket]:
    """Sorted by bucket number, buckets of the same number folded into one (a sample written
    twice over a restart, a late sample, a chunk completed after a migration)."""
    if all(a[0] < b[0] for a, b in zip(buckets, buckets[1:])):  # noqa: B905 (one shorter on purpose)
        return buckets  # already in order, each once: what reading chunks in order usually gives
    merged: dict[int, Bucket] = {}
    for bucket in buckets:
        before = merged.get(bucket[0])
        if before is None:
            merged[bucket[0]] = bucket
        else:
            merged[bucket[0]] = (bucket[0], before[1] + bucket[1], before[2] + bucket[2],
                                 min(before[3], bucket[3]), max(before[4], bucket[4]))
    return [merged[number] for number in sorted(merged)]


def _values(column: list[float]) -> bytes:
    decimals = _decimals(column)
    if decimals is not None:
        scale = 10 ** decimals
        return bytes((_INTS, decimals)) + _words(_differences([round(value * scale) for value in column]))
    bits = array("q")
    bits.frombytes(array("d", column).tobytes())
    xors = bits[:1].tolist() + [a ^ b for a, b in zip(bits, bits[1:])]  # noqa: B905 (one shorter on purpose)
    return bytes((_XOR, 0)) + _words(xors)


def _same(a: float, b: float) -> bool:
    """Equal, and not 0.0 beside -0.0 (which compare equal but are different values)."""
    return a == b and (a != 0.0 or math.copysign(1.0, a) == math.copysign(1.0, b))


def _decimals(column: list[float]) -> int | None:
    """The fewest decimal places that give back every value exactly, if there are few enough."""
    if 0.0 in column and any(math.copysign(1.0, value) < 0 for value in column if value == 0.0):
        return None  # -0.0 would come back as 0.0
    for decimals in range(MAX_DECIMALS + 1):
        scale = 10 ** decimals
        try:
            if all(abs(value) < _LIMIT / scale and round(value * scale) / scale == value for value in column):
                return decimals
        except (OverflowError, ValueError):  # inf, nan
            return None
    return None


def _differences(column: list[int]) -> list[int]:
    return column[:1] + [b - a for a, b in zip(column, column[1:])]  # noqa: B905 (one shorter on purpose)


def _words(column: list[int]) -> bytes:
    """Signed 64-bit words, split into byte planes."""
    data = array("q", column).tobytes()
    return b"".join(data[i::8] for i in range(8))


def _unplanes(data: bytes, width: int) -> bytes:
    if len(data) % width:
        raise ValueError("truncated column")
    size = len(data) // width
    out = bytearray(len(data))
    for i in range(width):
        out[i::width] = data[i * size:(i + 1) * size]
    return bytes(out)
