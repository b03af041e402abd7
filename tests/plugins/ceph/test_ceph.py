"""Ceph checks on real `ceph --format json` outputs from public repositories (fixtures/, each with its source)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import fixtures, results
from watchkeeper.checkapi import Metric, NoParams, Pending, Result, State
from watchkeeper.plugins.ceph.health import RedundancyParams, check_health, check_redundancy
from watchkeeper.plugins.ceph.pools import PoolParams, check_pool, discover_pools
from watchkeeper.plugins.ceph.status import CephStatus, parse_ceph_df, parse_ceph_status

FIXTURES = fixtures(__file__)

Outputs = list[Result | Metric | Pending]
STATUS = "ceph_status_json/telegraf_fixture_pgs_backfilling.txt"


def status_table(data: dict[str, Any] | None = None) -> list[list[str]]:
    """The agent's one-line JSON, as the section splitter hands it over (sep(0))."""
    raw = data if data is not None else json.loads((FIXTURES / STATUS).read_text())
    return [[json.dumps(raw)]]


def summary(outputs: Outputs) -> str:
    return ", ".join(r.summary for r in results(outputs) if r.summary)


def worst(outputs: Outputs) -> State:
    return max((r.state for r in results(outputs)), default=State.OK)


def test_backfilling_cluster_says_health_ok_but_redundancy_is_reduced() -> None:
    status = parse_ceph_status(status_table())
    assert worst(list(check_health("", NoParams(), status, {}, 0.0))) is State.OK
    assert "24 of 24 OSDs up, 24 in" in summary(list(check_health("", NoParams(), status, {}, 0.0)))
    out = list(check_redundancy("", RedundancyParams(), status, {}, 0.0))
    assert worst(out) is State.WARN
    assert "25919 object copies degraded (0.89%)" in summary(out)
    assert "recovering 6 objects/s" in summary(out) and "done in about" in summary(out)
    assert "5 active+backfilling" in "".join(r.details for r in results(out))


def test_named_health_checks_and_muted_ones() -> None:
    # the real status with health checks put in, in the layout Ceph documents since Luminous
    data = json.loads((FIXTURES / STATUS).read_text())
    data["health"] = {"status": "HEALTH_ERR", "checks": {
        "OSD_DOWN": {"severity": "HEALTH_WARN", "summary": {"message": "1 osds down", "count": 1}, "muted": False},
        "PG_DAMAGED": {"severity": "HEALTH_ERR", "summary": {"message": "Possible data damage: 1 pg inconsistent"}},
        "POOL_NO_REDUNDANCY": {"severity": "HEALTH_WARN", "summary": {"message": "1 pool(s) have no replicas"},
                               "muted": True},
    }, "mutes": [{"code": "POOL_NO_REDUNDANCY", "sticky": False, "summary": "1 pool(s) have no replicas"}]}
    out = list(check_health("", NoParams(), parse_ceph_status(status_table(data)), {}, 0.0))
    assert worst(out) is State.CRIT
    text = summary(out)
    assert "OSD_DOWN: 1 osds down" in text and "PG_DAMAGED: Possible data damage" in text
    assert "POOL_NO_REDUNDANCY (muted)" in text
    muted = [r for r in results(out) if "muted" in r.summary]
    assert muted[0].state is State.OK


def test_unfound_objects_are_crit() -> None:
    data = json.loads((FIXTURES / STATUS).read_text())
    data["pgmap"]["unfound_objects"] = 78
    out = list(check_redundancy("", RedundancyParams(), parse_ceph_status(status_table(data)), {}, 0.0))
    assert worst(out) is State.CRIT and "78 objects unfound" in summary(out)


def test_pools_from_ceph_df_with_fill_and_forecast() -> None:
    pools = parse_ceph_df([[json.dumps(json.loads((FIXTURES / "ceph_df_json/telegraf_fixture_6osd.txt").read_text()))]])
    assert len(list(discover_pools(pools))) == 4
    foo = pools["foo"]
    store: dict[str, Any] = {}
    out = list(check_pool("foo", PoolParams(), pools, store, 0.0))
    assert worst(out) is State.OK and "Used: 26.93%" in summary(out)
    later: Outputs = []
    for hour in range(1, 13):  # 10 GiB an hour; a forecast once six hours of it are known
        gib = hour * 2**30 * 10
        grown = {"foo": type(foo)(foo.name, foo.stored_bytes + gib, foo.used_bytes, foo.max_avail_bytes - gib,
                                  foo.used_ratio, foo.objects)}
        later = list(check_pool("foo", PoolParams(), grown, store, hour * 3600.0))
    assert "full in" in summary(later)
    assert worst(list(check_pool("gone", PoolParams(), pools, {}, 0.0))) is State.CRIT


def test_errors_and_garbage_are_unknown_not_crashes() -> None:
    missing_tool = parse_ceph_status([["watchkeeper-error: cannot run ceph: No such file or directory"]])
    assert worst(list(check_health("", NoParams(), missing_tool, {}, 0.0))) is State.UNKNOWN
    garbage = parse_ceph_status([["{not json"]])
    assert garbage.error and worst(list(check_health("", NoParams(), garbage, {}, 0.0))) is State.UNKNOWN


@pytest.mark.parametrize("error", [
    "ceph did not answer within 10s",  # the agent's own limit
    # Ceph 16.2.15 in tests/labs/ceph.py with its mon stopped, `ceph --connect-timeout 3 status`:
    # exit 1, stderr "timed out"
    "ceph exited with 1: timed out",
])
def test_a_cluster_no_monitor_answers_for_is_crit(error: str) -> None:
    results = list(check_health("", NoParams(), parse_ceph_status([[f"watchkeeper-error: {error}"]]), {}, 0.0))
    assert worst(results) is State.CRIT and "no monitor answered" in str(results[0])
    assert parse_ceph_df([["[]"]]) == {}


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=9), inner, max_size=5),
                    max_leaves=30))
def test_parsers_never_raise_on_arbitrary_json(value: object) -> None:
    table = [[json.dumps(value)]]
    status = parse_ceph_status(table)
    assert isinstance(status, CephStatus)
    list(check_health("", NoParams(), status, {}, 0.0))
    list(check_redundancy("", RedundancyParams(), status, {}, 0.0))
    for name in parse_ceph_df(table):
        list(check_pool(name, PoolParams(), parse_ceph_df(table), {}, 0.0))
