"""Parse `<<<ceph_status>>>` (`ceph status --format json` on one line) and `<<<ceph_df>>>`
(`ceph df detail`, which adds each pool's quota to `ceph df`; either is read).

Health checks have been a dict since Luminous: `{"OSD_DOWN": {"severity": "HEALTH_WARN",
"summary": {"message": "1 osds down", "count": 1}, "muted": false}}` (early builds put
`message` directly in the check). Muted checks are kept and shown as muted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from watchkeeper.checkapi import AgentSection, StringTable, finite, json_list, load_json


@dataclass(frozen=True, slots=True)
class HealthCheck:
    code: str
    severity: str
    message: str
    muted: bool = False


@dataclass(slots=True)
class CephStatus:
    health: str = "HEALTH_UNKNOWN"
    checks: list[HealthCheck] = field(default_factory=list)
    osds: int = 0
    osds_up: int = 0
    osds_in: int = 0
    pgs: int = 0
    pg_states: dict[str, int] = field(default_factory=dict)
    """Placement groups per combined state (`active+undersized+degraded`), from `ceph status`."""
    pg_flags: dict[str, int] = field(default_factory=dict)
    """Placement groups per state flag (`undersized`), from the mgr's prometheus module, which
    counts them so instead of by combined state."""
    degraded_objects: int = 0
    degraded_total: int = 0
    misplaced_objects: int = 0
    misplaced_total: int = 0
    unfound_objects: int = 0
    recovering_objects_per_second: float = 0.0
    recovering_bytes_per_second: float = 0.0
    bytes_used: int = 0
    bytes_total: int = 0
    mons: int = 0
    quorum: list[str] = field(default_factory=list)
    mgr_available: bool | None = None
    mgr_standbys: int = 0
    error: str = ""
    source: str = ""
    """Where the values came from when not from `ceph status` (the mgr module's address)."""
    unread: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Pool:
    name: str
    stored_bytes: int
    used_bytes: int
    max_avail_bytes: int
    used_ratio: float
    objects: int
    quota_objects: int = 0
    """0: no quota (`ceph df detail` only; plain `ceph df` has no quota)."""
    quota_bytes: int = 0


def _number(data: dict[str, Any], key: str) -> float:
    value = data.get(key)
    return finite(value) or 0.0 if isinstance(value, (int, float)) else 0.0


def _dict(data: object, key: str) -> dict[str, Any]:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def _json_object(table: StringTable) -> tuple[dict[str, Any] | None, str]:
    text = "\n".join(" ".join(row) for row in table)
    if text.startswith("watchkeeper-error:"):
        return None, text.partition(":")[2].strip()
    data = load_json(text)
    if data is None:
        return None, "output is not JSON (or nests too deep)"
    return (data, "") if isinstance(data, dict) else (None, "output is not a JSON object")


def _check(code: str, raw: object) -> HealthCheck:
    entry = raw if isinstance(raw, dict) else {}
    summary = entry.get("summary")
    message = summary.get("message") if isinstance(summary, dict) else entry.get("message")
    return HealthCheck(code=code, severity=str(entry.get("severity") or "HEALTH_WARN"),
                       message=str(message or code), muted=entry.get("muted") is True)


def parse_ceph_status(table: StringTable) -> CephStatus:
    data, error = _json_object(table)
    if data is None:
        return CephStatus(error=error)
    health = _dict(data, "health")
    status = CephStatus(health=str(health.get("status") or health.get("overall_status") or "HEALTH_UNKNOWN"))
    checks = health.get("checks")
    if isinstance(checks, dict):
        status.checks = [_check(str(code), raw) for code, raw in checks.items()]
    osdmap = _dict(data, "osdmap")
    osdmap = _dict(osdmap, "osdmap") or osdmap  # before Nautilus it was nested once more
    status.osds, status.osds_up, status.osds_in = (
        int(_number(osdmap, "num_osds")), int(_number(osdmap, "num_up_osds")), int(_number(osdmap, "num_in_osds")))
    pgmap = _dict(data, "pgmap")
    status.pgs = int(_number(pgmap, "num_pgs"))
    for entry in json_list(pgmap.get("pgs_by_state")):
        if isinstance(entry, dict) and isinstance(entry.get("state_name"), str):
            status.pg_states[entry["state_name"]] = int(_number(entry, "count"))
    status.degraded_objects = int(_number(pgmap, "degraded_objects"))
    status.degraded_total = int(_number(pgmap, "degraded_total"))
    status.misplaced_objects = int(_number(pgmap, "misplaced_objects"))
    status.misplaced_total = int(_number(pgmap, "misplaced_total"))
    status.unfound_objects = int(_number(pgmap, "unfound_objects"))
    status.recovering_objects_per_second = _number(pgmap, "recovering_objects_per_sec")
    status.recovering_bytes_per_second = _number(pgmap, "recovering_bytes_per_sec")
    status.bytes_used = int(_number(pgmap, "bytes_used"))
    status.bytes_total = int(_number(pgmap, "bytes_total"))
    status.mons = int(_number(_dict(data, "monmap"), "num_mons"))
    quorum = data.get("quorum_names")
    status.quorum = [str(name) for name in quorum] if isinstance(quorum, list) else []
    mgrmap = _dict(data, "mgrmap")
    available = mgrmap.get("available")
    status.mgr_available = available if isinstance(available, bool) else None
    status.mgr_standbys = int(_number(mgrmap, "num_standbys"))
    return status


def parse_ceph_df(table: StringTable) -> dict[str, Pool]:
    data, _error = _json_object(table)
    pools: dict[str, Pool] = {}
    for entry in json_list((data or {}).get("pools")):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        stats = _dict(entry, "stats")
        ratio = _number(stats, "percent_used")  # a ratio 0..1 since Nautilus, despite its name
        pools[entry["name"]] = Pool(
            name=entry["name"], stored_bytes=int(_number(stats, "stored") or _number(stats, "bytes_used")),
            used_bytes=int(_number(stats, "bytes_used")), max_avail_bytes=int(_number(stats, "max_avail")),
            used_ratio=ratio if ratio <= 1.0 else ratio / 100.0, objects=int(_number(stats, "objects")),
            quota_objects=int(_number(stats, "quota_objects")), quota_bytes=int(_number(stats, "quota_bytes")),
        )
    return pools


ceph_status_section = AgentSection("ceph_status", parse_ceph_status)


ceph_df_section = AgentSection("ceph_df", parse_ceph_df)
