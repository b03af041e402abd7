"""Ceph OSD services on real `ceph osd df tree` and `ceph osd dump` output from the project's
lab (fixtures/lab/SOURCE.md): up and in, down, out, fill against the cluster's ratios, an OSD
gone from the map, and input that is not what Ceph prints."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from watchkeeper.checkapi import State
from watchkeeper.engine.checking import collapse
from watchkeeper.model.cycles import Outcome
from watchkeeper.plugins.ceph.osds import CephOsds, OsdParams, check_osd, discover_osds, parse_ceph_osd_df

LAB = Path(__file__).parent / "fixtures" / "lab"


def section(tag: str, utilization: float | None = None) -> CephOsds:
    tree = json.loads((LAB / f"{tag}.osd_df_tree.json").read_text())
    if utilization is not None:  # the real tree with one OSD's fill changed
        next(node for node in tree["nodes"] if node["name"] == "osd.1")["utilization"] = utilization
    return parse_ceph_osd_df([[json.dumps(tree)], [(LAB / f"{tag}.osd_dump_ratios.json").read_text()]])


def check(data: CephOsds, name: str) -> Outcome:
    return collapse(name, check_osd(name, OsdParams(), data, {}, 0.0))


def test_every_osd_is_a_service_up_and_in_on_its_host() -> None:
    healthy = section("healthy")
    assert [service.item for service in discover_osds(healthy)] == ["osd.0", "osd.1", "osd.2"]
    outcome = check(healthy, "osd.1")
    assert outcome.state == 0 and "up and in, host vm, 9 placement groups" in outcome.summary
    assert "used 14.18% of 2.00 GiB" in outcome.summary
    assert healthy.ratios_known and healthy.ratios[0] == 0.8500000238418579


def test_a_down_osd_is_crit_and_an_out_one_warns_that_it_holds_no_data() -> None:
    data = section("osd2-down-osd0-out")
    down = check(data, "osd.2")
    assert down.state == 2 and down.summary.startswith("down")
    out = check(data, "osd.0")
    assert out.state == 1 and "out: it holds no data" in out.summary and "used" not in out.summary
    assert check(data, "osd.1").state == 0


def test_fill_is_judged_against_the_clusters_ratios() -> None:
    assert check(section("healthy", 84.9), "osd.1").state == 0
    nearfull = check(section("healthy", 86.0), "osd.1")
    assert nearfull.state == 1 and "nearfull" in nearfull.summary
    assert "backfillfull" in check(section("healthy", 91.0), "osd.1").summary
    full = check(section("healthy", 96.0), "osd.1")
    assert full.state == 2 and "Ceph blocks writes" in full.summary
    used = next(m for m in full.metrics if m.name == "ceph_osd_used_percent")
    assert used.levels == (85.00000238418579, 94.9999988079071)


def test_an_osd_gone_from_the_map_stays_crit() -> None:
    outcome = check(section("healthy"), "osd.7")
    assert outcome.state == 2 and "not in the OSD map any more" in outcome.summary


def test_unreadable_output_is_unknown_and_missing_ratios_fall_back_to_cephs_defaults() -> None:
    broken = parse_ceph_osd_df([["watchkeeper-error: ceph exited with 1: timed out"]])
    assert check(broken, "osd.0").state == 3 and "timed out" in check(broken, "osd.0").summary
    tree = (LAB / "healthy.osd_df_tree.json").read_text().strip()
    no_ratios = parse_ceph_osd_df([[tree], ["watchkeeper-error: ceph osd dump printed no JSON"]])
    assert not no_ratios.ratios_known and no_ratios.ratios == (0.85, 0.90, 0.95)
    assert "defaults are assumed" in check(no_ratios, "osd.1").details


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=9), inner,
                                                                                       max_size=5), max_leaves=30)


@given(json_values, json_values)
def test_the_parser_and_check_never_raise(tree: object, ratios: object) -> None:
    data = parse_ceph_osd_df([[json.dumps(tree)], [json.dumps(ratios)]])
    for name in [*data.osds, "osd.0"]:
        assert check(data, name).state in (State.OK, State.WARN, State.CRIT, State.UNKNOWN)


@given(st.one_of(st.integers(min_value=-(10**30), max_value=10**30), st.sampled_from([1e308, -1e308, 2.0**53])),
       st.floats(allow_nan=True, allow_infinity=True))
def test_huge_and_odd_numbers_are_read_or_ignored(kb: float, utilization: float) -> None:
    """1e308 KiB is finite, but not once made bytes: the fuzzer found the overflow."""
    tree = {"nodes": [{"id": 0, "name": "osd.0", "type": "osd", "status": "up", "reweight": 1, "kb": kb,
                       "kb_used": kb, "utilization": utilization, "pgs": kb}]}
    data = parse_ceph_osd_df([[json.dumps(tree)]])
    assert check(data, "osd.0").state in (0, 1, 2, 3)


def test_an_osd_whose_id_is_an_object_has_no_host_but_is_read() -> None:
    """The fuzzer's find: an `id` that is a JSON object was used as a dictionary key."""
    tree = {"nodes": [{"id": -3, "name": "vm", "type": "host", "children": [{}, 1]},
                      {"id": {}, "name": "osd.1", "type": "osd", "status": "up", "reweight": 1, "kb": 2097152}]}
    data = parse_ceph_osd_df([[json.dumps(tree)]])
    assert data.osds["osd.1"].host == "?"


def slow_ops_section(message: str | None = None) -> CephOsds:
    """The lab's SLOW_OPS capture, read as the engine does (status as a companion of the tree)."""
    status = json.loads((LAB / "slow-ops.status.json").read_text())
    if message is not None:
        status["health"]["checks"]["SLOW_OPS"]["summary"]["message"] = message
    return parse_ceph_osd_df([[(LAB / "slow-ops.osd_df_tree.json").read_text().strip()],
                              [(LAB / "healthy.osd_dump_ratios.json").read_text().strip()],
                              ["<<<ceph_status>>>"], [json.dumps(status)]])


def test_an_osd_that_ceph_names_in_slow_ops_warns_with_the_message() -> None:
    data = slow_ops_section()
    slow = check(data, "osd.1")
    assert slow.state == State.WARN
    assert "slow ops: 1 slow ops, oldest one blocked for 0 sec, osd.1 has slow ops" in slow.summary
    assert check(data, "osd.0").state == State.OK


def test_slow_ops_on_several_osds_name_each_of_them() -> None:
    # the form Ceph uses for several daemons, as in digitalocean/ceph_exporter's ceph/health_test.go
    data = slow_ops_section("18 slow ops, oldest one blocked for 1 sec, daemons [osd.0,osd.2] have slow ops.")
    assert [check(data, name).state for name in ("osd.0", "osd.1", "osd.2")] == [State.WARN, State.OK, State.WARN]
