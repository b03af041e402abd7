"""Reading numbers out of untrusted agent text: never raising, never slower than linear."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from watchkeeper.checkapi import to_int

FIELD = st.one_of(
    st.from_regex(r"[0-9]{1,45}", fullmatch=True),  # counters, and some longer than MAX_DIGITS
    st.text(alphabet="0123456789+-²٣ ", max_size=8),  # signs, empty fields, digits int() refuses or reads
    st.text(max_size=6),
)


@given(FIELD)
def test_a_field_is_a_plain_int_or_none_and_never_raises(field: str) -> None:
    number = to_int(field)
    assert number is None or (type(number) is int and str(abs(number)) == field.strip().lstrip("+-").lstrip("0")
                              or number == 0)


def test_numbers_int_would_refuse_or_misread_are_none() -> None:
    fields = ["12", "9" * 5000, "²", "٣", "", "-4", "+5", " 6 "]
    assert [to_int(field) for field in fields] == [12, None, None, None, None, -4, 5, 6]
