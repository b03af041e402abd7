"""The agent's `cached(TIME,INTERVAL)` mark, shared by mrpe and local checks."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from watchkeeper.checkapi import cache_age, split_cached


def test_the_mark_gives_time_interval_and_the_rest_of_the_line() -> None:
    assert split_cached("cached(1700000000,3600) 0 Slow_check - once an hour") == (
        1700000000.0, 3600.0, "0 Slow_check - once an hour")


def test_a_line_without_the_mark_is_left_as_it_is() -> None:
    assert split_cached("0 Fast_check - now") == (None, None, "0 Fast_check - now")
    assert split_cached("cached(1700000000,3600 no closing parenthesis") == (
        None, None, "cached(1700000000,3600 no closing parenthesis")


def test_numbers_that_are_no_numbers_are_none() -> None:
    assert split_cached("cached(soon,1e999) 0 X -") == (None, None, "0 X -")


def test_a_result_is_stale_after_two_intervals_and_says_how_old() -> None:
    assert cache_age(1000.0, 60.0, 1120.0) is None
    assert cache_age(1000.0, 60.0, 1121.0) == "cached result is 121 s old (it runs every 60 s)"
    assert cache_age(None, 60.0, 10**9) is None
    assert cache_age(1000.0, None, 10**9) is None


@given(st.text(max_size=5000))
def test_split_cached_never_raises_and_keeps_unmarked_lines(text: str) -> None:
    at, every, rest = split_cached(text)
    if not text.startswith("cached("):
        assert (at, every, rest) == (None, None, text)
