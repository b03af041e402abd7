"""The REST API's request and response bodies. Times are Unix seconds; states are names
(OK WARN CRIT UNKNOWN PENDING) with their Nagios numbers alongside."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

StateName = Literal["PENDING", "OK", "WARN", "CRIT", "UNKNOWN"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HostOut(BaseModel):
    name: str
    uri: str
    interval_s: float
    options: dict[str, Any]
    state: str
    state_since: float | None
    last_fetch: float | None
    last_ok: float | None
    last_error: str


class HostIn(Strict):
    name: str = Field(max_length=253, examples=["web1"])
    uri: str = Field(max_length=1000, examples=["ssh://root@web1.example"])
    interval_s: float = Field(60.0, ge=1.0, le=86400.0)
    options: dict[str, Any] = Field(default_factory=dict)


class HostUpdate(Strict):
    uri: str | None = Field(None, max_length=1000)
    interval_s: float | None = Field(None, ge=1.0, le=86400.0)
    options: dict[str, Any] | None = None


class ServiceOut(BaseModel):
    host: str
    name: str
    plugin: str
    item: str
    state: StateName
    state_code: int
    stale: bool
    summary: str
    details: str
    last_check: float | None
    last_change: float | None
    acknowledged: bool
    in_downtime: bool


class DiscoveryOut(BaseModel):
    host: str
    new: list[str]
    vanished: list[str]
    changed: list[str]
    unchanged: int
    ignored: list[str] = Field(default_factory=list, description="found, and ignored on purpose: never offered")
    accepted: bool


class DiscoveryAccept(Strict):
    new: bool = True
    changed: bool = False
    """Accept changed discovery facts (a replaced disk): the checks compare against the new ones."""
    vanished: bool = False
    """Stop monitoring services that discovery no longer finds."""
    only: list[Annotated[str, Field(max_length=1000)]] | None = Field(None, max_length=10000)
    """Only these services (by name): accept some of what is new, not all of it."""


class AuditOut(BaseModel):
    id: int
    at: float
    actor: str = Field(description="a web user, token:NAME, or cli:USER")
    action: str
    target: str
    detail: str


class HistoryOut(BaseModel):
    ts: float
    state: StateName
    state_code: int
    stale: bool
    summary: str


class SeriesOut(BaseModel):
    metric: str
    unit: str
    warn: float | None
    crit: float | None
    points: list[tuple[float, float, float, float]]
    """[time, average, lowest, highest] per step."""


class MetricsOut(BaseModel):
    host: str
    service: str
    start: float
    end: float
    step: float
    series: list[SeriesOut]


class RuleOut(BaseModel):
    id: int
    plugin: str
    host_glob: str
    item_glob: str
    params: dict[str, Any]
    comment: str
    host_labels: dict[str, str] = {}


class RuleIn(Strict):
    plugin: str = Field(max_length=100, examples=["df"])
    params: dict[str, Any] = Field(examples=[{"used_percent": [85, 95]}])
    host_glob: str = Field("*", max_length=1000)
    item_glob: str = Field("*", max_length=1000)
    comment: str = Field("", max_length=2000)
    host_labels: dict[str, str] = Field({}, max_length=50, examples=[{"hypervisor": "hyp1"}],
                                        description="labels a host must carry, each with this value")


class PatchDecisionOut(BaseModel):
    host: str
    decision: str
    """patch now, wait, or needs a window."""
    reasons: list[str]
    security_updates: list[str]
    other_updates: list[str]
    next_window: float | None
    """Start of the host's next downtime window (for `needs a window`), if one is within a week."""


class DowntimeOut(BaseModel):
    id: int
    host: str
    service: str | None
    start: float
    end: float | None
    """None: open-ended (a weekly window with no last date)."""
    weekly: str
    zone: str
    author: str
    comment: str
    active: bool


class DowntimeIn(Strict):
    host: str = Field(max_length=1000, description="host name glob")
    service: str | None = Field(None, max_length=1000, description="service name glob; none: host and services")
    start: float | None = Field(None, description="default now")
    end: float | None = None
    duration_s: float | None = Field(None, gt=0, le=10 * 365 * 86400.0)
    weekly: str = Field("", max_length=200, examples=["Sun 02:00-04:00"])
    zone: str = Field("UTC", max_length=100)
    comment: str = Field(max_length=2000)
    force: bool = Field(False, description="schedule it even if no host or service matches yet")


class AckOut(BaseModel):
    host: str
    service: str
    state: StateName
    author: str
    comment: str
    sticky: bool
    expires: float | None
    created: float


class AckIn(Strict):
    host: str = Field(max_length=253)
    service: str = Field("", max_length=1000, description="empty: the host itself")
    comment: str = Field(max_length=2000)
    sticky: bool = False
    expire_s: float | None = Field(None, gt=0, le=365 * 86400.0)


class ResultIn(Strict):
    host: str = Field(max_length=253)
    service: str = Field(max_length=1000)
    state: Literal[0, 1, 2, 3, "OK", "WARN", "WARNING", "CRIT", "CRITICAL", "UNKNOWN"]
    output: str = Field(max_length=65536, description="plugin output: text, then optionally |perfdata")


class NotificationRuleOut(BaseModel):
    id: int
    spec: dict[str, Any]


class CheckOut(BaseModel):
    host: str
    name: str
    argv: list[str]
    on: str
    passive: bool
    interval_s: float
    freshness_s: float


class CheckIn(Strict):
    name: str = Field(max_length=200)
    argv: list[str] = Field(default_factory=list, max_length=200,
                            description="the plugin and its arguments, one word each; empty for passive")
    on: Literal["server", "host"] = "server"
    passive: bool = False
    interval_s: float = Field(60.0, ge=1.0, le=86400.0)
    retry_interval_s: float = Field(60.0, ge=1.0, le=86400.0)
    max_attempts: int = Field(3, ge=1, le=100)
    timeout_s: float = Field(30.0, ge=1.0, le=3600.0)
    freshness_s: float = Field(0.0, ge=0.0, le=365 * 86400.0)
    stale_state: Literal[0, 1, 2, 3] = 3
    host_check: bool = False
    replace: bool = False


class Accepted(BaseModel):
    accepted: bool
    message: str


class NotificationRuleIn(Strict):
    """The fields of `watchkeeper notify rule add`; see docs/alerting.md."""

    name: str = Field("", max_length=200)
    hosts: str = Field("*", max_length=1000, description="host name glob")
    services: str = Field("*", max_length=1000, description="service name glob; '' for host notifications")
    service_regex: str = Field("", max_length=1000)
    labels: dict[str, str] = Field(default_factory=dict)
    states: list[str] = Field(["WARN", "CRIT", "UNKNOWN", "STALE"], max_length=10)
    transitions: list[str] = Field(default_factory=list, max_length=50, examples=[["OK>CRIT"]])
    summary_regex: str = Field("", max_length=1000)
    period: str = Field("", max_length=200, examples=["mon-fri 08:00-18:00"])
    zone: str = Field("UTC", max_length=100)
    contacts: list[str] = Field(default_factory=list, max_length=100)
    after_s: float = Field(0.0, ge=0, le=365 * 86400.0)
    renotify_s: float = Field(0.0, ge=0, le=365 * 86400.0)
    grace_s: float = Field(0.0, ge=0, le=365 * 86400.0)
    bulk_s: float = Field(120.0, ge=0, le=86400.0)
    digest_at: str = Field("", max_length=5, examples=["07:00"])
    suppress: bool = False
    stop: bool = False
    comment: str = Field("", max_length=2000)
