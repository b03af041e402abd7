"""`Unmerged configuration` on what the agent printed for a tree with a conflict marker and
package leftovers; rules that ignore a path; any rows parse or are unparsed, never crash."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import fixtures, results
from watchkeeper.checkapi import SectionUnparsed, State, StringTable
from watchkeeper.plugins.config_files.unmerged import (
    UnmergedParams,
    check_config_unmerged,
    parse_config_unmerged,
)

KEPT = fixtures(__file__) / "agent" / "etc-with-markers-and-leftovers.txt"


def kept() -> StringTable:
    return [line.split("\t") for line in KEPT.read_text().splitlines()[1:]]


def test_ignored_paths_are_left_alone_and_said_to_be() -> None:
    section = parse_config_unmerged(kept())
    assert section.markers == {"/etc/ssh/sshd_config": 2} and len(section.leftovers) == 2
    params = UnmergedParams(ignore=("/etc/ssh/*", "*.dpkg-dist", "/etc/yum.conf.*"))
    assert [(r.state, r.summary) for r in results(check_config_unmerged("", params, section, {}, 0.0))] == [
        (State.OK, "nothing left unmerged in 8 files (3 ignored by rule)")]


def test_files_the_agent_could_not_read_are_counted_not_hidden() -> None:
    section = parse_config_unmerged([["scanned", "1345", "-", "3"]])
    assert [r.summary for r in results(check_config_unmerged("", UnmergedParams(), section, {}, 0.0))] == [
        "nothing left unmerged in 1345 files", "3 files could not be read (is the agent running as root?)"]


def test_a_scan_that_did_not_finish_is_unparsed() -> None:
    try:
        parse_config_unmerged([["marker", "/etc/x", "1"]])
    except SectionUnparsed as exc:
        assert "did not finish" in str(exc)
    else:
        raise AssertionError("parsed without a scanned line")


@given(st.lists(st.lists(st.one_of(st.sampled_from(["marker", "leftover", "scanned", "-", "1796059795"]),
                                   st.text(max_size=400), st.from_regex(r"\d{1,40}", fullmatch=True)), max_size=6),
                max_size=30))
def test_any_rows_parse_or_are_unparsed_never_crash(table: StringTable) -> None:
    try:
        section = parse_config_unmerged(table)
    except SectionUnparsed:
        return
    list(check_config_unmerged("", UnmergedParams(), section, {}, 1_796_060_000.0))
