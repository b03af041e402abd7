"""LVM checks on real `lvs` JSON reports kept in fixtures/ with their sources (thin pools need device-mapper,
which the test machine lacks; the real-LVM test covers volume groups)."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import fixtures
from watchkeeper.checkapi import Fixed, SectionUnparsed, StringTable
from watchkeeper.engine.checking import collapse
from watchkeeper.plugins.lvm.groups import GroupParams, lvm_groups
from watchkeeper.plugins.lvm.report import Lvm, parse_lvm
from watchkeeper.plugins.lvm.thin import ThinParams, lvm_thin_pools

FIXTURES = fixtures(__file__)


def report(relative: str) -> StringTable:
    """The agent prints each report as `lvs <one-line JSON>`."""
    return [[f"lvs {json.dumps(json.loads((FIXTURES / relative).read_text()))}"]]


def thin_section() -> Lvm:
    parsed = parse_lvm(report("lvm_lvs/json_report_thinpool_78pct.txt"))
    assert parsed is not None
    return parsed


def test_thin_pool_is_discovered_with_data_and_metadata_fill() -> None:
    section = thin_section()
    assert [service.item for service in lvm_thin_pools.discover(section)] == ["cm-vg/root"]
    outcome = collapse("p", lvm_thin_pools.check("cm-vg/root", ThinParams(), section, {}, 0.0))
    assert outcome.state == 0
    assert outcome.summary == "Data: 78.89%, data forecast after 6 hours of data, Metadata: 19.25%"
    values = {m.name: m.value for m in outcome.metrics}
    assert values["lvm_thin_data_percent"] == 78.89 and values["lvm_thin_metadata_percent"] == 19.25


def test_data_and_metadata_have_their_own_levels() -> None:
    section = thin_section()
    data = collapse("p", lvm_thin_pools.check("cm-vg/root", ThinParams(data_percent=Fixed(70.0, 78.0)),
                                              section, {}, 0.0))
    assert data.state == 2 and "Data: 78.89% (warn/crit at 70.00%/78.00%)" in data.summary
    meta = collapse("p", lvm_thin_pools.check("cm-vg/root", ThinParams(metadata_percent=Fixed(15.0, 30.0)),
                                              section, {}, 0.0))
    assert meta.state == 1 and "Metadata: 19.25% (warn/crit at 15.00%/30.00%)" in meta.summary


def test_thin_pool_forecasts_data_and_metadata_separately() -> None:
    section = thin_section()
    pool = section.thin_pools()["cm-vg/root"]
    pool.metadata_bytes = 100 * 1024 * 1024
    store: dict[str, object] = {}
    outcome = None
    for hour in range(10):  # data +1 % an hour, metadata +2 %
        pool.data_percent, pool.metadata_percent = 70.0 + hour, 5.0 + 2 * hour
        outcome = collapse("p", lvm_thin_pools.check("cm-vg/root", ThinParams(data_percent=None), section,
                                                     store, hour * 3600.0))  # type: ignore[arg-type]
    assert outcome is not None
    names = {m.name for m in outcome.metrics}
    assert {"lvm_thin_data_time_until_full_seconds", "lvm_thin_metadata_time_until_full_seconds"} <= names


def test_no_thin_pool_among_plain_volumes() -> None:
    parsed = parse_lvm(report("lvm_lvs/json_report_no_thin.txt"))
    assert parsed is not None and parsed.thin_pools() == {}
    assert parsed.lvs[0].data_percent is None


def test_vanished_group_is_crit() -> None:
    outcome = collapse("vg", lvm_groups.check("vg0", GroupParams(), Lvm(errors=["vgs exited with 5: boom"]), {}, 0.0))
    assert outcome.state == 2 and "vgs exited with 5: boom" in outcome.summary


@given(st.lists(st.text(max_size=120), max_size=20))
def test_parser_reads_or_says_why_it_cannot(lines: list[str]) -> None:
    for prefix in ("", "vgs ", "lvs ", "pvs "):
        try:
            parsed = parse_lvm([[prefix + line] for line in lines])
        except SectionUnparsed as exc:
            assert str(exc).startswith("no vgs/pvs/lvs report in a form Watchkeeper reads")
            continue
        if parsed is not None:
            for vg in parsed.vgs:
                list(lvm_groups.check(vg, GroupParams(), parsed, {}, 0.0))


@given(st.integers(min_value=0, max_value=400))
def test_truncated_report_loses_nothing_else(cut: int) -> None:
    text = json.dumps(json.loads((FIXTURES / "lvm_lvs/json_report_thinpool_78pct.txt").read_text()))[:cut]
    parsed = parse_lvm([["lvs " + text], ["watchkeeper-warning: VG x is missing PV y"]])
    assert parsed is not None and parsed.warnings == ["VG x is missing PV y"]
