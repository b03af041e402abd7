from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import agent_output
from watchkeeper.collect.sections import split_sections

AGENTS = ["checkmk-1.4.0i2-debian12.txt", "checkmk-2.3.0b1-debian12-container.txt"]


@pytest.mark.parametrize("agent", AGENTS)
def test_real_checkmk_agent_output_splits_into_its_sections(agent: str) -> None:
    raw = agent_output(agent).read_bytes()
    split = split_sections(raw)
    headers = {line.split(b">>>")[0][3:].split(b":")[0].decode() for line in raw.splitlines()
               if line.startswith(b"<<<") and not line.startswith(b"<<<<")}
    assert set(split.sections) == {name for name in headers if split.sections.get(name) is not None}
    assert "lnx_if" in split.sections and "uptime" in split.sections


def test_repeated_section_bodies_are_joined_in_order_with_their_own_separators() -> None:
    split = split_sections(b"<<<lnx_if>>>\n[start_iplink]\n<<<lnx_if:sep(58)>>>\n  lo: 1 2\n")
    assert split.sections["lnx_if"] == [["[start_iplink]"], ["  lo", " 1 2"]]


def test_sep_zero_keeps_whole_lines() -> None:
    assert split_sections(b'<<<lsblk:sep(0)>>>\n  {"a": 1}\n').sections["lsblk"] == [['  {"a": 1}']]


def test_header_with_no_body_is_an_empty_section() -> None:
    assert split_sections(b"<<<md>>>\n<<<vbox_guest>>>\n").sections == {"md": [], "vbox_guest": []}


def test_lines_outside_sections_and_piggyback_data_are_counted_and_dropped() -> None:
    split = split_sections(b"junk\n<<<mem>>>\nMemTotal: 1 kB\n<<<>>>\nafter\n<<<<other>>>>\nx\n<<<<>>>>\n")
    assert split.sections == {"mem": [["MemTotal:", "1", "kB"]]}
    assert split.stray_lines == 3  # junk, after, and the piggybacked x


def test_binary_garbage_becomes_replacement_characters_not_an_error() -> None:
    split = split_sections(b"<<<mem>>>\n\xff\xfe\x00garbage\n")
    assert split.sections["mem"] == [["\ufffd\ufffd\x00garbage"]]


def test_truncated_output_keeps_the_sections_before_the_cut() -> None:
    raw = agent_output(AGENTS[0]).read_bytes()
    split = split_sections(raw[: raw.index(b"<<<cpu>>>") + 5])
    assert "mem" in split.sections and "cpu" not in split.sections


@given(st.binary(max_size=4096))
def test_splitter_never_raises_on_arbitrary_bytes(raw: bytes) -> None:
    split_sections(raw)


@given(st.lists(st.one_of(st.sampled_from(["<<<mem>>>", "<<<x:sep(58)>>>", "<<<y:sep(999999999)>>>",
                                           "<<<>>>", "<<<<p>>>>", "<<<z:sep(0)>>>", "<<<"]),
                          st.text(max_size=20)), max_size=30))
def test_splitter_never_raises_on_mangled_headers(lines: list[str]) -> None:
    split_sections("\n".join(lines).encode())
