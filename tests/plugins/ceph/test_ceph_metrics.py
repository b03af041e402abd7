"""Ceph read from the mgr's `prometheus` module (fixtures/mgr_prometheus/SOURCE.md): the line
reader held against `prometheus_client`'s parser on real scrapes, the sections the agent sends
while all is well, what the module says when it is not, and input no module prints."""

from __future__ import annotations

import math
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import outcomes
from watchkeeper.checkapi import prometheus_sample
from watchkeeper.collect.sections import split_sections
from watchkeeper.engine.checking import collapse
from watchkeeper.plugins.ceph.health import RedundancyParams, check_health, check_redundancy
from watchkeeper.plugins.ceph.metrics import (
    parse_ceph_df_metrics,
    parse_ceph_osd_df_metrics,
    parse_ceph_status_metrics,
)
from watchkeeper.plugins.ceph.osds import OsdParams, check_osd

SCRAPES = Path(__file__).parent / "fixtures" / "mgr_prometheus"


def rows(text: str) -> list[list[str]]:
    return [[line] for line in text.splitlines()]


def canonical(name: str, labels: dict[str, str], value: float) -> tuple[str, tuple[tuple[str, str], ...], str]:
    # prometheus_client names a counter's samples NAME_total; Ceph's lines do not
    return name.removesuffix("_total"), tuple(sorted(labels.items())), repr(value)


def test_the_line_reader_reads_real_scrapes_as_prometheus_client_does() -> None:
    for path in sorted(SCRAPES.glob("*.prom")):
        text = path.read_text()
        ours = sorted(canonical(*sample) for sample in map(prometheus_sample, text.splitlines()) if sample)
        theirs = sorted(canonical(sample.name, sample.labels, sample.value)
                        for family in text_string_to_metric_families(text) for sample in family.samples)
        assert ours == theirs and len(ours) > 200, path.name


label_values = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40)


# label names that start with `__` are reserved for Prometheus' own use: exporters never write them
label_names = st.from_regex(r"[a-z_][a-z0-9_]{0,20}", fullmatch=True).filter(lambda name: not name.startswith("__"))


@given(st.dictionaries(label_names, label_values, max_size=6),
       st.floats(allow_nan=False))
def test_any_sample_the_format_allows_reads_back_as_prometheus_client_reads_it(labels: dict[str, str],
                                                                             value: float) -> None:
    escaped = ",".join(
        '{}="{}"'.format(key, text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"'))
        for key, text in labels.items())
    line = f"ceph_sample{{{escaped}}} {value!r}" if labels else f"ceph_sample {value!r}"
    theirs = [(s.name, s.labels, s.value) for f in text_string_to_metric_families(line + "\n") for s in f.samples]
    assert [prometheus_sample(line)] == theirs


@given(st.text(max_size=300))
def test_any_line_is_a_sample_or_none_never_an_exception(line: str) -> None:
    sample = prometheus_sample(line)
    assert sample is None or isinstance(sample[2], float)


def test_long_lines_many_labels_and_huge_numbers_are_refused_or_kept_bounded() -> None:
    assert prometheus_sample("ceph_x " + "9" * 100) is None  # longer than any real number
    assert prometheus_sample('ceph_x{a="' + "v" * 70000 + '"} 1') is None
    assert prometheus_sample("ceph_x{" + ",".join(f'l{i}="v"' for i in range(100)) + "} 1") is None
    assert prometheus_sample('ceph_x{a="unterminated} 1') is None
    assert prometheus_sample("ceph_x 1e999") == ("ceph_x", {}, math.inf)
    status = parse_ceph_status_metrics(rows("ceph_health_status 0\nceph_pg_total{pool_id=\"1\"} 1e999\n"
                                            "ceph_num_objects_degraded -5\nceph_cluster_total_bytes NaN"))
    assert status.pgs == 0 and status.degraded_objects == 0 and status.bytes_total == 0


def test_a_healthy_cluster_read_from_the_module_gives_every_service_with_the_muted_check_shown() -> None:
    found = outcomes((SCRAPES / "healthy-muted.agent.txt").read_bytes())
    health = found["Ceph health"]
    assert health.state == 0, health.summary
    assert "OSDMAP_FLAGS (muted)" in health.summary and "quorum 1 of 1 mons (a)" in health.summary
    assert "3 of 3 OSDs up, 3 in" in health.summary
    assert "read from the mgr's prometheus module at http://127.0.0.1:51605/metrics" in health.details
    assert found["Ceph redundancy"].state == 0 and "9 placement groups" in found["Ceph redundancy"].summary
    osd = found["Ceph OSD osd.1"]
    assert osd.state == 0 and "up and in, host vm, 9 placement groups, hdd" in osd.summary, osd.summary
    assert "used 14.18% of 2.00 GiB" in osd.summary
    assert found["Ceph pool data"].state == 0
    assert found["Agent"].state == 0, found["Agent"].summary  # every section known and read


def test_the_fill_ratios_come_from_the_agents_lines_and_without_them_cephs_defaults_are_said() -> None:
    sections = split_sections((SCRAPES / "healthy-muted.agent.txt").read_bytes()).sections
    own, status = sections["ceph_osd_df_metrics"], sections["ceph_status_metrics"]
    osds = parse_ceph_osd_df_metrics(own + [["<<<ceph_status_metrics>>>"]] + status)
    assert osds.ratios_known and osds.ratios == (0.8500000238418579, 0.8999999761581421, 0.949999988079071)
    without = parse_ceph_osd_df_metrics([row for row in own if "ratio" not in row[0]]
                                        + [["<<<ceph_status_metrics>>>"]] + status)
    assert not without.ratios_known
    outcome = collapse("Ceph OSD osd.0", check_osd("osd.0", OsdParams(), without, {}, 0.0))
    assert "Ceph's defaults are assumed" in outcome.details


def test_a_whole_scrape_during_trouble_still_names_what_the_module_knows() -> None:
    """The agent sends `ceph` then, not the module; read anyway, the module's own lag shows."""
    lines = rows((SCRAPES / "osd2-down.prom").read_text())
    status = parse_ceph_status_metrics(lines)
    assert status.health == "HEALTH_WARN" and {c.code for c in status.checks} == {"OSD_DOWN", "POOL_APP_NOT_ENABLED"}
    assert not any(check.muted for check in status.checks)
    assert (status.osds, status.osds_up, status.osds_in) == (3, 2, 3)
    health = collapse("Ceph health", check_health("", None, status, {}, 0.0))  # type: ignore[arg-type]
    assert health.state == 1 and "OSD_DOWN" in health.summary and "2 of 3 OSDs up" in health.summary
    # its placement-group counts lag `ceph status` (8 undersized+degraded there): 2 stale here
    redundancy = collapse("Ceph redundancy", check_redundancy("", RedundancyParams(), status, {}, 0.0))
    assert "2 placement groups stale" in redundancy.summary, redundancy.summary
    osds = parse_ceph_osd_df_metrics(lines + [["<<<ceph_status_metrics>>>"]] + lines)
    assert not osds.osds["osd.2"].up and osds.osds["osd.0"].up and osds.osds["osd.0"].host == "vm"
    pools = parse_ceph_df_metrics(lines)
    assert pools["data"].quota_bytes == 10000000 and pools["data"].objects == 20


def test_a_module_just_enabled_counts_no_placement_group_active_and_is_not_trusted_as_healthy() -> None:
    status = parse_ceph_status_metrics(rows((SCRAPES / "module-just-enabled.prom").read_text()))
    redundancy = collapse("Ceph redundancy", check_redundancy("", RedundancyParams(), status, {}, 0.0))
    assert "9 placement groups inactive" in redundancy.summary, redundancy.summary


def test_a_scrape_without_a_health_status_or_osd_states_is_an_error_not_a_healthy_cluster() -> None:
    status = parse_ceph_status_metrics(rows('ceph_osd_up{ceph_daemon="osd.0"} 1\n# HELP x\nnot a sample'))
    assert status.unread == ["not a sample line: not a sample"]
    health = collapse("Ceph health", check_health("", None, status, {}, 0.0))  # type: ignore[arg-type]
    assert health.state == 3 and "no ceph_health_status" in health.summary
    sections = split_sections((SCRAPES / "healthy-muted.agent.txt").read_bytes()).sections
    alone = parse_ceph_osd_df_metrics(sections["ceph_osd_df_metrics"])  # its companion missing
    outcome = collapse("Ceph OSD osd.0", check_osd("osd.0", OsdParams(), alone, {}, 0.0))
    assert outcome.state == 3 and "gave no OSD's up and in state" in outcome.summary


@given(st.lists(st.text(max_size=200), max_size=30))
def test_the_parsers_take_any_lines_without_raising(lines: list[str]) -> None:
    table = rows("\n".join(lines))
    parse_ceph_status_metrics(table)
    parse_ceph_df_metrics(table)
    parse_ceph_osd_df_metrics(table + [["<<<ceph_status_metrics>>>"]] + table)
