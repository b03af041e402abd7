from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import agent_output
from watchkeeper.collect.sections import split_line_by_line, split_sections

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


def test_lines_outside_sections_are_counted_and_dropped_and_piggyback_data_kept_apart() -> None:
    split = split_sections(b"junk\n<<<mem>>>\nMemTotal: 1 kB\n<<<>>>\nafter\n<<<<other>>>>\nx\n<<<<>>>>\n")
    assert split.sections == {"mem": [["MemTotal:", "1", "kB"]]}
    assert (split.stray_lines, split.piggyback_lines) == (2, 1)  # junk and after; the piggybacked x
    assert split.piggyback == {"other": ["x\n"]}


def test_sections_piggybacked_for_another_host_are_not_this_hosts() -> None:
    split = split_sections(b"<<<mem>>>\nMemTotal: 1 kB\n<<<<vm1>>>>\n<<<mem>>>\nMemTotal: 9 kB\n<<<df>>>\n/dev/x\n"
                           b"<<<<>>>>\n<<<uptime>>>\n42\n")
    assert split.sections == {"mem": [["MemTotal:", "1", "kB"]], "uptime": [["42"]]}
    assert split.piggyback_lines == 4
    assert "".join(split.piggyback["vm1"]) == "<<<mem>>>\nMemTotal: 9 kB\n<<<df>>>\n/dev/x\n"


def test_piggyback_data_for_one_host_in_several_blocks_is_joined_in_order() -> None:
    split = split_sections(b"<<<<vm1>>>>\n<<<mem>>>\na\n<<<<vm2>>>>\n<<<mem>>>\nb\n<<<< vm1 >>>>\n<<<df>>>\nc")
    assert {host: "".join(text) for host, text in split.piggyback.items()} == {
        "vm1": "<<<mem>>>\na\n<<<df>>>\nc\n", "vm2": "<<<mem>>>\nb\n"}
    assert split.sections == {}


def test_a_header_with_a_huge_separator_code_is_reported_and_its_lines_dropped() -> None:
    # found by fuzzing: 5,000 digits made int() raise, the whole cycle failed and the host froze as OK
    split = split_sections(b"<<<mem>>>\nMemTotal: 1 kB\n<<<junk:sep(" + b"9" * 5000 + b")>>>\nMemFree: 2 kB\n"
                           b"<<<uptime>>>\n42\n")
    assert split.sections == {"mem": [["MemTotal:", "1", "kB"]], "uptime": [["42"]]}
    assert split.stray_lines == 1
    assert len(split.problems) == 1
    assert split.problems[0].startswith("line 3: unreadable section header '<<<junk:sep(999")
    assert "sep() needs a character code" in split.problems[0]


def test_cached_and_other_header_options_are_accepted() -> None:
    split = split_sections(b"<<<chrony:cached(1700000000,120)>>>\nStratum : 3\n"
                           b"<<<local:sep(0):persist(9)>>>\n0 A - ok\n")
    assert split.sections == {"chrony": [["Stratum", ":", "3"]], "local": [["0 A - ok"]]}


def test_binary_garbage_becomes_replacement_characters_not_an_error() -> None:
    split = split_sections(b"<<<mem>>>\n\xff\xfe\x00garbage\n")
    assert split.sections["mem"] == [["\ufffd\ufffd\x00garbage"]]


def test_truncated_output_keeps_the_sections_before_the_cut() -> None:
    raw = agent_output(AGENTS[0]).read_bytes()
    split = split_sections(raw[: raw.index(b"<<<cpu>>>") + 5])
    assert "mem" in split.sections and "cpu" not in split.sections


@given(st.one_of(st.binary(max_size=4096), st.builds(lambda n, d: b"<<<x:sep(" + b"7" * n + b")>>>\n" + d,
                                                     st.integers(0, 20_000), st.binary(max_size=64))))
def test_splitter_never_raises_on_arbitrary_bytes(raw: bytes) -> None:
    split_sections(raw)


@given(st.lists(st.one_of(st.sampled_from(["<<<mem>>>", "<<<x:sep(58)>>>", "<<<y:sep(999999999)>>>",
                                           "<<<>>>", "<<<<p>>>>", "<<<z:sep(0)>>>", "<<<"]),
                          st.text(max_size=20)), max_size=30))
def test_splitter_never_raises_on_mangled_headers(lines: list[str]) -> None:
    split_sections("\n".join(lines).encode())


HEADERISH = st.sampled_from(["<<<mem>>>", "<<<x:sep(58)>>>", "<<<y:sep(999999999)>>>", "<<<>>>", "<<<<p>>>>",
                             "<<<<>>>>", "<<<<", "<<<z:sep(0)>>>", "<<<", "<<<mem:cached(1,2)>>>", "<<<bad name>>>"])


@given(st.lists(st.one_of(HEADERISH, st.text(alphabet=" \t:ab1<>", max_size=12)), max_size=40),
       st.booleans())
def test_reading_by_sections_equals_reading_line_by_line(lines: list[str], final_newline: bool) -> None:
    text = "\n".join(lines) + ("\n" if final_newline else "")
    fast, reference = split_sections(text.encode()), split_line_by_line(text)
    assert (fast.sections, fast.stray_lines, fast.piggyback_lines, fast.problems) == (
        reference.sections, reference.stray_lines, reference.piggyback_lines, reference.problems)
    assert {host: "".join(text) for host, text in fast.piggyback.items()} == {
        host: "".join(text) for host, text in reference.piggyback.items()}


def test_a_section_with_the_text_the_caller_has_is_not_split_again() -> None:
    first = split_sections(b"<<<mem>>>\nMemTotal: 1 kB\n<<<uptime>>>\n100 200\n")
    second = split_sections(b"<<<mem>>>\nMemTotal: 1 kB\n<<<uptime>>>\n101 200\n", known=first.fingerprints)
    assert second.unchanged == {"mem"} and second.sections == {"mem": [], "uptime": [["101", "200"]]}


def test_output_with_carriage_returns_is_read_line_by_line() -> None:
    split = split_sections(b"<<<mem>>>\r\nMemTotal: 1 kB\r\n<<<uptime>>>\r\n100 200\r\n")
    assert split.sections == {"mem": [["MemTotal:", "1", "kB"]], "uptime": [["100", "200"]]}
