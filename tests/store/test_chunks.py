"""The chunk codec: lossless for every float and bucket number, a few bytes per bucket on the
value shapes checks produce, and a clear error (never a crash) on damaged bytes."""

from __future__ import annotations

import math
import random
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.errors import StoreError
from watchkeeper.store.chunks import decode, encode, merge


def bits(buckets: list[tuple[int, int, float, float, float]]) -> list[tuple[object, ...]]:
    """Buckets with floats as their IEEE bits, so that nan and -0.0 compare exactly."""
    return [(b[0], b[1], *(struct.pack("<d", v) for v in b[2:])) for b in buckets]


@st.composite
def chunk(draw: st.DrawFn) -> list[tuple[int, int, float, float, float]]:
    numbers = sorted(set(draw(st.lists(st.integers(-(2**40), 2**40), max_size=300))))
    values = st.floats(allow_nan=True, allow_infinity=True)
    out = []
    for number in numbers:
        if draw(st.booleans()):
            value = draw(values)
            out.append((number, 1, value, value, value))
        else:
            out.append((number, draw(st.integers(1, 2**31)), draw(values), draw(values), draw(values)))
    return out


@given(chunk())
@settings(max_examples=300)
def test_every_chunk_decodes_to_exactly_what_was_encoded(buckets: list[tuple[int, int, float, float, float]]) -> None:
    assert bits(decode(encode(buckets))) == bits(buckets)


@given(st.lists(st.floats(min_value=-1e300, max_value=1e300), min_size=1, max_size=50))
def test_decimals_near_the_edges_of_exactness_come_back_exactly(values: list[float]) -> None:
    buckets = [(i, 1, round(v, 3), round(v, 3), round(v, 3)) for i, v in enumerate(values)]
    assert bits(decode(encode(buckets))) == bits(buckets)


@given(st.binary(max_size=400))
def test_damaged_bytes_are_a_store_error_never_a_crash(data: bytes) -> None:
    try:
        decode(data)
    except StoreError:
        pass


def test_truncated_and_flipped_chunks_are_store_errors() -> None:
    blob = encode([(i, 1, float(i), float(i), float(i)) for i in range(120)])
    with pytest.raises(StoreError, match="damaged"):
        decode(blob[:-5])
    with pytest.raises(StoreError, match="format"):
        decode(b"\x09" + blob[1:])


def shapes(count: int) -> dict[str, list[float]]:
    rng = random.Random(7)
    counter, used = 10**12, 4e11
    out: dict[str, list[float]] = {"flat": [1.0] * count, "decimals": [], "bytes counter": [], "percent": [],
                                   "noisy": []}
    for _ in range(count):
        counter += rng.randint(0, 10**6)
        used += rng.randint(-(10**6), 10**7)
        out["decimals"].append(round(rng.uniform(0, 4), 2))  # as an agent prints a load average
        out["bytes counter"].append(float(counter))
        out["percent"].append(100.0 * used / 2e12)
        out["noisy"].append(20 + rng.gauss(0, 3))
    return out


@pytest.mark.parametrize(("shape", "most"), [("flat", 0.5), ("decimals", 2.5), ("bytes counter", 4.0),
                                             ("percent", 6.5), ("noisy", 8.0)])
def test_a_two_hour_chunk_of_one_minute_samples_takes_a_few_bytes_per_sample(shape: str, most: float) -> None:
    values = shapes(120)[shape]
    blob = encode([(29_000_000 + i, 1, v, v, v) for i, v in enumerate(values)])
    assert len(blob) / 120 <= most


def test_merge_folds_buckets_of_the_same_number() -> None:
    assert merge([(5, 1, 2.0, 2.0, 2.0), (3, 1, 1.0, 1.0, 1.0), (5, 2, 4.0, 1.0, 3.0)]) == [
        (3, 1, 1.0, 1.0, 1.0), (5, 3, 6.0, 1.0, 3.0)]
    assert math.isnan(merge([(1, 1, math.nan, 0.0, 0.0)])[0][2])
