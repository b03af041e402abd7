"""Reading numbers out of untrusted agent text: never raising, never slower than linear."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from watchkeeper.checkapi import to_int, to_ints

FIELD = st.one_of(
    st.from_regex(r"[0-9]{1,45}", fullmatch=True),  # counters, and some longer than MAX_DIGITS
    st.text(alphabet="0123456789+-²٣ ", max_size=8),  # signs, empty fields, digits int() refuses or reads
    st.text(max_size=6),
)


@given(st.lists(FIELD, max_size=20))
def test_a_row_reads_as_each_field_would_alone(fields: list[str]) -> None:
    assert to_ints(fields) == [to_int(field) for field in fields]


def test_a_row_of_counters_is_read_whole() -> None:
    row = "8 0 sda 40712 11399 3125846 6890 71293 98414 2905160 39788 0 47244 46680".split()[3:]
    assert to_ints(row) == [40712, 11399, 3125846, 6890, 71293, 98414, 2905160, 39788, 0, 47244, 46680]


def test_numbers_int_would_refuse_or_misread_are_none_in_a_row_of_counters() -> None:
    assert to_ints(["12", "9" * 5000, "²", "٣", "", "-4", "+5", " 6 "]) == [12, None, None, None, None, -4, 5, 6]
    assert to_ints([]) == []
