"""The same Ceph values from the mgr's `prometheus` module, where an operator has it enabled.

One scrape costs the host about a twenty-fifth of the CPU of the four `ceph` calls (0.04
against 1.05 s, `docs/benchmarks.md`), but the module says less: health checks by name and
severity without their messages, placement groups counted per state flag and pool rather than
per combined state, no totals to put degraded copies in proportion, and no fill ratios. So the agent reads
it only while it shows a healthy, settled cluster (HEALTH_OK, nothing degraded, misplaced or
unfound, every placement group active and clean) and asks `ceph` itself otherwise; it adds the
three fill ratios of `ceph osd dump` (asked once an hour) as lines of the same format:

    <<<ceph_status_metrics:sep(0)>>>
    # watchkeeper: read from http://mgr1:9283/metrics
    ceph_health_status 0.0
    ceph_mon_quorum_status{ceph_daemon="mon.a"} 1.0
    ceph_pg_active{pool_id="2"} 8.0
    <<<ceph_df_metrics:sep(0)>>>
    ceph_pool_metadata{pool_id="2",name="data",type="replicated",...} 1.0
    ceph_pool_max_avail{pool_id="2"} 1735653760.0
    <<<ceph_osd_df_metrics:sep(0)>>>
    ceph_osd_metadata{ceph_daemon="osd.0",device_class="hdd",hostname="vm",...} 1.0
    ceph_osd_stat_bytes_used{ceph_daemon="osd.0"} 304455680.0
    ceph_osd_nearfull_ratio 0.85

They become the values the `ceph … --format json` sections become, for the same services.
"""

from __future__ import annotations

from collections.abc import Iterator

from watchkeeper.checkapi import AgentSection, StringTable, prometheus_sample
from watchkeeper.plugins.ceph.osds import CephOsds, Osd
from watchkeeper.plugins.ceph.status import CephStatus, HealthCheck, Pool

HEALTH = {0: "HEALTH_OK", 1: "HEALTH_WARN", 2: "HEALTH_ERR"}
COMPANION = "<<<ceph_status_metrics>>>"
SOURCE = "# watchkeeper: read from "


def _samples(lines: list[str], unread: list[str]) -> Iterator[tuple[str, dict[str, str], float]]:
    """The sample lines; any other line but a comment is named in `unread`."""
    for line in lines:
        sample = prometheus_sample(line)
        if sample is not None:
            yield sample
        elif line.strip() and not line.startswith("#"):
            unread.append(f"not a sample line: {line[:200]}")


def _count(value: float) -> int:
    """A count or size as an int; 0 for NaN, negatives and numbers no cluster has."""
    return int(value) if 0 <= value < 2**53 else 0


def _lines(table: StringTable) -> list[str]:
    return [" ".join(row) for row in table]


def parse_ceph_status_metrics(table: StringTable) -> CephStatus:
    lines = _lines(table)
    status = CephStatus()
    health: float | None = None
    osds: dict[str, list[bool]] = {}  # daemon -> [up, in]
    mgr_seen = False
    for line in lines:
        if line.startswith(SOURCE):
            status.source = line[len(SOURCE):].strip()
    for name, labels, value in _samples(lines, status.unread):
        daemon = labels.get("ceph_daemon", "")
        if name == "ceph_health_status":
            health = value
        elif name == "ceph_health_detail" and value == 1 and labels.get("name"):
            status.checks.append(HealthCheck(labels["name"], labels.get("severity") or "HEALTH_WARN", ""))
        elif name == "ceph_mon_metadata":
            status.mons += 1
        elif name == "ceph_mon_quorum_status" and value == 1:
            status.quorum.append(daemon.removeprefix("mon."))
        elif name == "ceph_mgr_status":
            mgr_seen = True
            if value == 1:
                status.mgr_available = True
            else:
                status.mgr_standbys += 1
        elif name in ("ceph_osd_up", "ceph_osd_in") and daemon:
            osds.setdefault(daemon, [False, False])[name == "ceph_osd_in"] = value == 1
        elif name == "ceph_pg_total":
            status.pgs += _count(value)
        elif name.startswith("ceph_pg_"):
            flag = name[len("ceph_pg_"):]
            status.pg_flags[flag] = status.pg_flags.get(flag, 0) + _count(value)
        elif name == "ceph_num_objects_degraded":
            status.degraded_objects = _count(value)
        elif name == "ceph_num_objects_misplaced":
            status.misplaced_objects = _count(value)
        elif name == "ceph_num_objects_unfound":
            status.unfound_objects = _count(value)
        elif name == "ceph_pool_recovering_objects_per_sec":
            status.recovering_objects_per_second += max(0.0, value) if value < 2**53 else 0.0
        elif name == "ceph_pool_recovering_bytes_per_sec":
            status.recovering_bytes_per_second += max(0.0, value) if value < 2**53 else 0.0
        elif name == "ceph_cluster_total_bytes":
            status.bytes_total = _count(value)
        elif name == "ceph_cluster_total_used_bytes":
            status.bytes_used = _count(value)
    if health is None:
        status.error = "the mgr's prometheus module gave no ceph_health_status"
        return status
    status.health = HEALTH.get(_count(health), "HEALTH_UNKNOWN")
    if status.health == "HEALTH_OK":
        # Ceph leaves muted checks out of the overall status: a check listed under HEALTH_OK is muted
        status.checks = [HealthCheck(c.code, c.severity, c.message, muted=True) for c in status.checks]
    if not mgr_seen:
        status.mgr_available = None
    status.osds = len(osds)
    status.osds_up = sum(up for up, _ in osds.values())
    status.osds_in = sum(in_ for _, in_ in osds.values())
    return status


def parse_ceph_df_metrics(table: StringTable) -> dict[str, Pool]:
    names: dict[str, str] = {}
    values: dict[str, dict[str, float]] = {}
    for name, labels, value in _samples(_lines(table), []):  # a pool map has nowhere to keep them
        pool_id = labels.get("pool_id")
        if pool_id is None:
            continue
        if name == "ceph_pool_metadata" and labels.get("name"):
            names[pool_id] = labels["name"]
        elif name.startswith("ceph_pool_"):
            values.setdefault(pool_id, {})[name[len("ceph_pool_"):]] = value
    pools: dict[str, Pool] = {}
    for pool_id, name in names.items():
        pool = values.get(pool_id, {})
        ratio = pool.get("percent_used", 0.0)  # a ratio 0..1, as in `ceph df`
        pools[name] = Pool(
            name=name, stored_bytes=_count(pool.get("stored", 0.0)), used_bytes=_count(pool.get("bytes_used", 0.0)),
            max_avail_bytes=_count(pool.get("max_avail", 0.0)),
            used_ratio=ratio if 0 <= ratio <= 1 else 0.0, objects=_count(pool.get("objects", 0.0)),
            quota_objects=_count(pool.get("quota_objects", 0.0)), quota_bytes=_count(pool.get("quota_bytes", 0.0)))
    return pools


RATIOS = ("ceph_osd_nearfull_ratio", "ceph_osd_backfillfull_ratio", "ceph_osd_full_ratio")


def parse_ceph_osd_df_metrics(table: StringTable) -> CephOsds:
    lines = _lines(table)
    split = lines.index(COMPANION) if COMPANION in lines else len(lines)
    section = CephOsds()
    meta: dict[str, dict[str, str]] = {}
    numbers: dict[str, dict[str, float]] = {}
    ratios: dict[str, float] = {}
    for name, labels, value in _samples(lines[:split], section.unread):
        daemon = labels.get("ceph_daemon", "")
        if name == "ceph_osd_metadata" and daemon.startswith("osd."):
            meta[daemon] = labels
        elif name in RATIOS:
            ratios[name] = value
        elif daemon.startswith("osd."):
            numbers.setdefault(daemon, {})[name] = value
    for name, labels, value in _samples(lines[split + 1:], []):  # the companion's own parser names its lines
        daemon = labels.get("ceph_daemon", "")
        if name in ("ceph_osd_up", "ceph_osd_in") and daemon.startswith("osd."):
            numbers.setdefault(daemon, {})[name] = value
        elif (name == "ceph_daemon_health_metrics" and labels.get("type") == "SLOW_OPS"
              and daemon.startswith("osd.") and value >= 1):
            section.slow_ops[daemon] = f"{_count(value)} slow ops (Ceph's daemon health metrics)"
    if meta and not any("ceph_osd_up" in values for values in numbers.values()):
        section.error = "the mgr's prometheus module gave no OSD's up and in state (ceph_osd_up, ceph_osd_in)"
        return section
    for daemon in sorted(set(meta) | {d for d, n in numbers.items() if "ceph_osd_up" in n}):
        labels, values = meta.get(daemon, {}), numbers.get(daemon, {})
        in_ = values.get("ceph_osd_in") == 1
        size = _count(values.get("ceph_osd_stat_bytes", 0.0)) if in_ else 0  # out: no data, as `osd df` says
        used = _count(values.get("ceph_osd_stat_bytes_used", 0.0)) if in_ else 0
        section.osds[daemon] = Osd(
            name=daemon, host=labels.get("hostname") or "?", up=values.get("ceph_osd_up") == 1, in_=in_,
            size_bytes=size, used_bytes=used, utilization_percent=100.0 * used / size if size else 0.0,
            pgs=_count(values.get("ceph_osd_numpg", 0.0)), device_class=labels.get("device_class", ""))
    found = tuple(ratios.get(name, 0.0) for name in RATIOS)
    if all(0 < ratio <= 1 for ratio in found):
        section.ratios, section.ratios_known = (found[0], found[1], found[2]), True
    return section


ceph_status_metrics_section = AgentSection("ceph_status_metrics", parse_ceph_status_metrics,
                                           parsed_section="ceph_status")
ceph_df_metrics_section = AgentSection("ceph_df_metrics", parse_ceph_df_metrics, parsed_section="ceph_df")
ceph_osd_df_metrics_section = AgentSection("ceph_osd_df_metrics", parse_ceph_osd_df_metrics,
                                           parsed_section="ceph_osd_df", companions=("ceph_status_metrics",))
