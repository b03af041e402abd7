"""Ceph OSDs, one service each: up and in, its host, its fill against the cluster's nearfull,
backfillfull and full ratios, time until full. An OSD that leaves the OSD map stays CRIT until
its service is removed.

`<<<ceph_osd_df>>>` holds two JSON lines from the agent: `ceph osd df tree` (every OSD with its
`status` up/down, `reweight` — 0 when out —, `kb`, `kb_used`, `utilization` in percent, and the
host whose `children` list it) and the three ratios of `ceph osd dump`. An out OSD reports
`kb` 0: it holds no data, so it has no fill.

`<<<ceph_status>>>` is read as a companion for Ceph's SLOW_OPS health check, whose message
names the OSDs with operations blocked longer than `osd_op_complaint_time` (30 s by default):

    "3 slow ops, oldest one blocked for 31 sec, osd.39 has slow ops"
    "18 slow ops, oldest one blocked for 1 sec, daemons [osd.114,osd.116,osd.33] have slow ops."

Each OSD named there is WARN with the message (a disk going bad shows here first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from watchkeeper.checkapi import (
    AgentSection,
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    Fixed,
    Metric,
    Result,
    Service,
    State,
    StringTable,
    ValueStore,
    check_time_until_full,
    finite,
    json_list,
    load_json,
    render,
)

_SLOW_DAEMONS = re.compile(r"(?:(osd\.\d{1,6}) has slow ops|daemons \[([^\]]{0,10000})\] have slow ops)")
DAY = 86400.0
DEFAULT_RATIOS = (0.85, 0.90, 0.95)
"""nearfull, backfillfull, full: Ceph's defaults, used when `ceph osd dump` could not be read."""


@dataclass(frozen=True, slots=True)
class Osd:
    name: str
    host: str
    up: bool
    in_: bool
    size_bytes: int
    used_bytes: int
    utilization_percent: float
    pgs: int
    device_class: str


@dataclass(slots=True)
class CephOsds:
    osds: dict[str, Osd] = field(default_factory=dict)
    ratios: tuple[float, float, float] = DEFAULT_RATIOS
    ratios_known: bool = False
    slow_ops: dict[str, str] = field(default_factory=dict)
    """OSD name -> SLOW_OPS' message, for each OSD it names."""
    error: str = ""
    unread: list[str] = field(default_factory=list)


def _number(entry: dict[str, object], key: str) -> float:
    value = finite(entry.get(key))
    return 0.0 if value is None else value


def _host(host_of: dict[int | str, str], osd_id: object) -> str:
    return host_of.get(osd_id, "?") if isinstance(osd_id, int | str) else "?"


def _whole(entry: dict[str, object], key: str, scale: int = 1) -> int:
    """A count or size as an int; 0 for one no cluster has (beyond 2**53 before scaling), which
    would otherwise overflow to infinity when scaled."""
    value = _number(entry, key)
    return int(value * scale) if 0 <= value < 2**53 else 0


def _slow_ops(status_lines: list[str]) -> dict[str, str]:
    status = load_json(status_lines[0]) if status_lines else None
    health = status.get("health") if isinstance(status, dict) else None
    checks = health.get("checks") if isinstance(health, dict) else None
    check = checks.get("SLOW_OPS") if isinstance(checks, dict) else None
    summary = check.get("summary") if isinstance(check, dict) else None
    message = summary.get("message") if isinstance(summary, dict) else summary
    if not isinstance(message, str):
        return {}
    named: dict[str, str] = {}
    for single, listed in _SLOW_DAEMONS.findall(message[:20000]):
        for daemon in [single] if single else listed.split(","):
            if daemon.strip().startswith("osd."):
                named[daemon.strip()] = message.strip()
    return named


def parse_ceph_osd_df(table: StringTable) -> CephOsds:
    lines = [" ".join(row) for row in table]
    split = lines.index("<<<ceph_status>>>") if "<<<ceph_status>>>" in lines else len(lines)
    lines, status_lines = lines[:split], lines[split + 1:]
    section = CephOsds(slow_ops=_slow_ops(status_lines))
    tree = load_json(lines[0]) if lines and not lines[0].startswith("watchkeeper-error:") else None
    if not isinstance(tree, dict):
        section.error = lines[0].partition(":")[2].strip() if lines and lines[0].startswith("watchkeeper-error:") \
            else "`ceph osd df tree` printed no JSON object"
        return section
    nodes = [node for node in json_list(tree.get("nodes")) if isinstance(node, dict)]
    host_of: dict[int | str, str] = {}
    for node in nodes:
        if node.get("type") == "host":
            for child in json_list(node.get("children")):
                if isinstance(child, int | str):  # ids are numbers; a list or object is damaged output
                    host_of[child] = str(node.get("name"))
    for node in nodes:
        name = node.get("name")
        if node.get("type") != "osd" or not isinstance(name, str):
            continue
        section.osds[name] = Osd(
            name=name, host=_host(host_of, node.get("id")), up=node.get("status") == "up",
            in_=_number(node, "reweight") > 0, size_bytes=_whole(node, "kb", 1024),
            used_bytes=_whole(node, "kb_used", 1024), utilization_percent=_number(node, "utilization"),
            pgs=_whole(node, "pgs"), device_class=str(node.get("device_class") or ""))
    ratios = load_json(lines[1]) if len(lines) > 1 and not lines[1].startswith("watchkeeper-error:") else None
    if isinstance(ratios, dict):
        found = tuple(_number(ratios, key) for key in ("nearfull_ratio", "backfillfull_ratio", "full_ratio"))
        if all(0 < ratio <= 1 for ratio in found):
            section.ratios, section.ratios_known = (found[0], found[1], found[2]), True
    return section


ceph_osd_df = AgentSection(name="ceph_osd_df", parse=parse_ceph_osd_df, companions=("ceph_status",))


@dataclass(frozen=True, slots=True)
class OsdParams:
    down_state: int = 2
    """An OSD that is down: its placement groups are degraded until it is back or out."""
    out_state: int = 1
    """Up but out (marked out, or being drained): it holds no data."""
    time_until_full_seconds: Fixed | None = Fixed(warn=14 * DAY, crit=3 * DAY)
    trend_horizon_seconds: float = 24 * 3600.0
    slow_ops_state: int = 1
    """While Ceph's SLOW_OPS names this OSD."""


def discover_osds(section: CephOsds) -> DiscoveryResult:
    for name in section.osds:
        yield Service(name)


def check_osd(item: str, params: OsdParams, section: CephOsds, store: ValueStore, now: float) -> CheckResult:
    if section.error:
        yield Result(State.UNKNOWN, f"cannot read the OSDs: {section.error}")
        return
    osd = section.osds.get(item)
    if osd is None:
        yield Result(State.CRIT, f"{item} is not in the OSD map any more; if it was removed on purpose, "
                     "run service discovery with --remove-vanished")
        return
    if not osd.up:
        yield Result(State(params.down_state), "down")
    if not osd.in_:
        yield Result(State(params.out_state), "out: it holds no data")
    if osd.up and osd.in_:
        yield Result(State.OK, "up and in")
    if item in section.slow_ops:
        yield Result(State(params.slow_ops_state), f"slow ops: {section.slow_ops[item]}")
    yield Result(State.OK, f"host {osd.host}, {osd.pgs} placement groups"
                 + (f", {osd.device_class}" if osd.device_class else ""))
    yield Metric("ceph_osd_pgs", osd.pgs)
    if not osd.size_bytes:
        return  # out: no fill to speak of
    nearfull, backfillfull, full = section.ratios
    used = osd.utilization_percent
    levels = (100 * nearfull, 100 * full)
    text = f"used {render.percent(used)} of {render.bytes_(osd.size_bytes)}"
    if used >= 100 * full:
        yield Result(State.CRIT, f"{text}: full (at {render.percent(100 * full)} Ceph blocks writes to its "
                                 "placement groups)")
    elif used >= 100 * backfillfull:
        yield Result(State.WARN, f"{text}: backfillfull (at {render.percent(100 * backfillfull)} no data is "
                                 "moved to it)")
    elif used >= 100 * nearfull:
        yield Result(State.WARN, f"{text}: nearfull (warns at {render.percent(100 * nearfull)}, full at "
                                 f"{render.percent(100 * full)})")
    else:
        yield Result(State.OK, text)
    if not section.ratios_known:
        yield Result(State.OK, "", details="the cluster's ratios could not be read; Ceph's defaults are assumed")
    yield Metric("ceph_osd_used_percent", used, levels=levels, boundaries=(0.0, 100.0))
    yield Metric("ceph_osd_used_bytes", osd.used_bytes, boundaries=(0.0, float(osd.size_bytes)))
    yield from check_time_until_full(store, now, osd.used_bytes, max(0.0, osd.size_bytes * full - osd.used_bytes),
                                     horizon_s=params.trend_horizon_seconds, levels=params.time_until_full_seconds,
                                     metric_prefix="ceph_osd")


ceph_osds = CheckPlugin(
    name="ceph_osd",
    section="ceph_osd_df",
    title="Ceph OSD %s",
    discover=discover_osds,
    check=check_osd,
    default_params=OsdParams(),
)
