"""Checkmk's `<<<md>>>` is /proc/mdstat split at whitespace: the same arrays as our `mdstat`."""

from __future__ import annotations

import pytest

from tests.conftest import agent_section, fixtures
from watchkeeper.collect.sections import split_sections
from watchkeeper.plugins.mdraid.mdstat import parse_md, parse_mdstat

DATA = fixtures(__file__) / "mdstat"


@pytest.mark.parametrize("sample", sorted(p.name for p in DATA.glob("*.txt")))
def test_checkmk_md_and_our_mdstat_give_the_same_arrays(sample: str) -> None:
    raw = (DATA / sample).read_bytes()
    ours = parse_mdstat(split_sections(b"<<<mdstat:sep(0)>>>\n" + raw).sections["mdstat"])
    theirs = parse_md(split_sections(b"<<<md>>>\n" + raw).sections["md"])
    assert theirs == ours


def test_a_degraded_mirror_from_a_real_checkmk_agent_names_the_failed_member() -> None:
    arrays = parse_md(agent_section("checkmk-2.3.0b1-debian12-degraded.txt", "md"))
    assert arrays["md1"].level == "raid1" and (arrays["md1"].total, arrays["md1"].up) == (2, 1)
    assert [m.name for m in arrays["md1"].failed()] == ["sdb3"]
    assert not arrays["md0"].failed() and arrays["md0"].missing == 0


def test_an_empty_md_section_means_no_arrays() -> None:
    assert parse_md(agent_section("checkmk-2.1.0i1-debian12-host.txt", "md")) == {}
