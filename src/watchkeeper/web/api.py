"""REST API v1: everything the command line does, behind API tokens with scopes.

Handlers are plain functions: the framework runs them in its thread pool, each thread with
its own store connection (`StoreAccess`), so the daemon's event loop never waits on a query.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response, Security
from fastapi.security import HTTPAuthorizationCredentials

from watchkeeper.checkapi import build_params
from watchkeeper.engine.catalog import plugins_by_name
from watchkeeper.model.active_checks import ActiveCheck
from watchkeeper.model.hosts import HostConfig
from watchkeeper.model.notifications import Downtime, NotificationRule
from watchkeeper.model.states import BY_NAME, NAMES
from watchkeeper.notify.actions import acknowledge, schedule_downtime
from watchkeeper.patching.facts import fleet_facts
from watchkeeper.patching.plan import plan
from watchkeeper.store.active_tables import ActiveTables
from watchkeeper.store.audit_tables import AuditTables, redacted
from watchkeeper.store.database import Store
from watchkeeper.store.notify_tables import NotifyTables
from watchkeeper.web import views
from watchkeeper.web.api_models import (
    Accepted,
    AckIn,
    AckOut,
    AuditOut,
    CheckIn,
    CheckOut,
    DiscoveryAccept,
    DiscoveryOut,
    DowntimeIn,
    DowntimeOut,
    HistoryOut,
    HostIn,
    HostOut,
    HostUpdate,
    MetricsOut,
    NotificationRuleIn,
    NotificationRuleOut,
    PatchDecisionOut,
    ResultIn,
    RuleIn,
    RuleOut,
    ServiceOut,
)
from watchkeeper.web.auth import Caller, bearer, caller_from_token, session_of
from watchkeeper.web.changes import (
    accept_discovered,
    audit,
    described,
    downtime_said,
    ignore_services,
    remove_downtime_recorded,
    target_of,
    unignore_services,
)
from watchkeeper.web.errors import ERROR_RESPONSES, ApiError
from watchkeeper.web.link import DaemonLink
from watchkeeper.web.series import RANGES

router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)


def need(scope: str) -> Callable[..., Caller]:
    def dependency(request: Request,
                   credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]) -> Caller:
        if credentials is None and scope == "read" and request.method == "GET":
            # the UI's own pages read the API (their graphs) with the login session: reading only,
            # so no CSRF token is needed; anything that changes something still needs a token
            session = session_of(request.app.state.access, request)
            if session is not None:
                return Caller(session.user, session.scope)
        return caller_from_token(request.app.state.access, credentials, scope, request.app.state.token_noted)

    return dependency


RowId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the id shown when it was made")]
Read = Annotated[Caller, Depends(need("read"))]
Write = Annotated[Caller, Depends(need("write"))]
Admin = Annotated[Caller, Depends(need("admin"))]


def store_of(request: Request) -> Store:
    store: Store = request.app.state.access.store()
    return store


def daemon_of(request: Request) -> DaemonLink:
    link: DaemonLink = request.app.state.daemon
    return link


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


# ---------------------------------------------------------------------- hosts
@router.get("/hosts", tags=["hosts"], summary="All hosts with their reachability")
def list_hosts(request: Request, _: Read) -> list[HostOut]:
    return [views.host_out(store_of(request), row.config.name) for row in store_of(request).hosts()]


@router.post("/hosts", tags=["hosts"], status_code=201, summary="Add a host (its services are discovered by "
             "the daemon on its first check)")
def add_host(request: Request, body: HostIn, caller: Admin) -> HostOut:
    store = store_of(request)
    host = HostConfig(body.name, body.uri, body.interval_s, body.options)
    store.add_host(host)
    audit(store, caller.name, "host add", host.name, described(host))
    return views.host_out(store, body.name)


@router.get("/hosts/{host}", tags=["hosts"])
def get_host(request: Request, host: str, _: Read) -> HostOut:
    return views.host_out(store_of(request), host)


@router.patch("/hosts/{host}", tags=["hosts"], summary="Change a host's address, interval or options")
def update_host(request: Request, host: str, body: HostUpdate, caller: Admin) -> HostOut:
    store = store_of(request)
    config = store.host(host).config
    changed = HostConfig(host, body.uri if body.uri is not None else config.uri,
                         body.interval_s if body.interval_s is not None else config.interval_s,
                         body.options if body.options is not None else config.options)
    store.update_host(changed)
    audit(store, caller.name, "host edit", host, f"was {described(config)}; now {described(changed)}")
    return views.host_out(store, host)


@router.delete("/hosts/{host}", tags=["hosts"], status_code=204,
               summary="Remove a host and its services; its history stays unless ?purge=true")
def remove_host(request: Request, host: str, caller: Admin, purge: bool = False) -> Response:
    store = store_of(request)
    store.remove_host(host, keep_history=not purge)
    audit(store, caller.name, "host remove", host, "history deleted" if purge else "history kept")
    return Response(status_code=204)


@router.post("/hosts/{host}/discovery", tags=["hosts"],
             summary="Discover now: what is new, vanished or changed (nothing is accepted)")
async def discover(request: Request, host: str, caller: Write) -> DiscoveryOut:
    return await _discover(request, host, None, caller)


@router.post("/hosts/{host}/discovery/accept", tags=["hosts"], summary="Discover now and accept the changes")
async def accept_discovery(request: Request, host: str, body: DiscoveryAccept, caller: Write) -> DiscoveryOut:
    return await _discover(request, host, body, caller)


async def _discover(request: Request, host: str, accept: DiscoveryAccept | None, caller: Caller) -> DiscoveryOut:
    store = store_of(request)
    store.host(host)
    found = await daemon_of(request).discover(host)
    if accept is None:
        accept = DiscoveryAccept(new=False, only=None)
    diff = accept_discovered(store, host, found, caller.name, new=accept.new, changed=accept.changed,
                             vanished=accept.vanished, only=accept.only)
    return DiscoveryOut(host=host, new=[s.name for s in diff.new], vanished=[s.name for s in diff.vanished],
                        changed=[before.name for before, _ in diff.changed], unchanged=diff.unchanged,
                        ignored=[s.name for s in diff.ignored], accepted=accept.new or accept.changed or
                        accept.vanished)


@router.get("/hosts/{host}/ignored", tags=["hosts"], summary="Services discovery finds and does not offer")
def list_ignored(request: Request, host: str, _: Read) -> list[str]:
    store = store_of(request)
    store.host(host)
    return store.ignored_services(host)


@router.put("/hosts/{host}/ignored/{service:path}", tags=["hosts"], status_code=204,
            summary="Ignore a service: discovery never offers it again (and it is no longer monitored)")
def ignore_service(request: Request, host: str, service: str, caller: Write) -> Response:
    ignore_services(store_of(request), host, [service], caller.name)
    return Response(status_code=204)


@router.delete("/hosts/{host}/ignored/{service:path}", tags=["hosts"], status_code=204,
               summary="Offer an ignored service again")
def unignore_service(request: Request, host: str, service: str, caller: Write) -> Response:
    store = store_of(request)
    if service not in store.ignored_services(host):
        raise ApiError(404, f"{host} does not ignore {service!r}")
    unignore_services(store, host, [service], caller.name)
    return Response(status_code=204)


@router.post("/hosts/{host}/reschedule", tags=["hosts"], summary="Check the host (or one service) now")
def reschedule(request: Request, host: str, _: Write, service: str | None = None) -> Accepted:
    store_of(request).host(host)
    done = daemon_of(request).reschedule(host, service, time.time())
    return Accepted(accepted=done, message="checking now" if done else "nothing this daemon checks under that name")


# ---------------------------------------------------------------------- services
@router.get("/services", tags=["services"], summary="Services with their current state")
def list_services(request: Request, _: Read, host: str | None = None,
                  state: Annotated[list[str] | None, Query(description="OK WARN CRIT UNKNOWN PENDING")] = None,
                  q: Annotated[str | None, Query(max_length=200, description="text in host, service or summary")]
                  = None, problems: bool = False) -> list[ServiceOut]:
    store = store_of(request)
    if host is not None:
        store.host(host)
    marks = views.Marks.load(store)
    wanted = {s.upper() for s in state or []}
    unknown = wanted - set(NAMES.values())
    if unknown:
        raise ApiError(400, f"unknown state {', '.join(sorted(unknown))}; use OK WARN CRIT UNKNOWN PENDING")
    return list(views.find_services(store, marks, host, wanted, q or "", problems))


@router.get("/hosts/{host}/services/{service:path}", tags=["services"], summary="One service's current state")
def get_service(request: Request, host: str, service: str, _: Read) -> ServiceOut:
    store = store_of(request)
    return views.service_out(store.service(host, service), views.Marks.load(store))


@router.get("/hosts/{host}/history", tags=["services"], summary="The host's UP/DOWN changes, newest first")
def host_history(request: Request, host: str, _: Read, limit: Annotated[int, Query(ge=1, le=10000)] = 100
                 ) -> list[HistoryOut]:
    store = store_of(request)
    store.host(host)
    return _history(store, host, "", limit)


@router.get("/hosts/{host}/history/{service:path}", tags=["services"], summary="State changes, newest first")
def service_history(request: Request, host: str, service: str, _: Read,
                    limit: Annotated[int, Query(ge=1, le=10000)] = 100) -> list[HistoryOut]:
    store = store_of(request)
    store.service(host, service)
    return _history(store, host, service, limit)


def _history(store: Store, host: str, service: str, limit: int) -> list[HistoryOut]:
    return [HistoryOut(ts=r.ts, state=NAMES.get(r.state, "UNKNOWN"),  # type: ignore[arg-type]
                       state_code=r.state, stale=r.stale, summary=r.summary)
            for r in store.history(host, service, limit)]


@router.get("/hosts/{host}/metrics/{service:path}", tags=["services"],
            summary="Every metric of a service over a time range")
def service_metrics(request: Request, host: str, service: str, _: Read,
                    range: Annotated[str, Query(description="4h 25h 8d 1y, ending now (unless start/end)")]
                    = "4h",
                    start: Annotated[float | None, Query(ge=0, le=1e11)] = None,
                    end: Annotated[float | None, Query(ge=0, le=1e11)] = None,
                    resolution: Annotated[float | None, Query(ge=60, le=86400 * 31,
                                                              description="seconds per point")] = None
                    ) -> MetricsOut:
    if range not in RANGES:
        raise ApiError(400, f"range {range!r} is not one of {', '.join(RANGES)}; or give start and end")
    until = end if end is not None else time.time()
    since = start if start is not None else until - RANGES[range]
    if since >= until:
        raise ApiError(400, "start must be before end")
    return views.metrics(store_of(request), host, service, since, until, resolution,
                         request.app.state.metric_source)


# ---------------------------------------------------------------------- levels (check rules)
@router.get("/rules", tags=["rules"], summary="Check parameter rules, in order")
def list_rules(request: Request, _: Read) -> list[RuleOut]:
    return [RuleOut(id=r.id, plugin=r.plugin, host_glob=r.host_glob, item_glob=r.item_glob, params=r.params,
                    comment=r.comment, host_labels=r.host_labels) for r in store_of(request).rules()]


@router.post("/rules", tags=["rules"], status_code=201, summary="Add a rule, e.g. df used_percent [85, 95]")
def add_rule(request: Request, body: RuleIn, caller: Admin) -> RuleOut:
    plugin = plugins_by_name().get(body.plugin)
    if plugin is None:
        raise ApiError(400, f"there is no check plugin {body.plugin!r}; known: {', '.join(sorted(plugins_by_name()))}")
    try:
        build_params(plugin.default_params, body.params)
    except (ValueError, TypeError) as exc:
        raise ApiError(400, f"the parameters do not fit {body.plugin}: {exc}") from None
    store = store_of(request)
    rule_id = store.add_rule(body.plugin, body.params, body.host_glob, body.item_glob, body.comment, body.host_labels)
    audit(store, caller.name, "rule add", f"rule {rule_id}", json.dumps(body.model_dump(), sort_keys=True))
    return RuleOut(id=rule_id, **body.model_dump())


@router.delete("/rules/{rule_id}", tags=["rules"], status_code=204)
def remove_rule(request: Request, rule_id: RowId, caller: Admin) -> Response:
    store = store_of(request)
    store.remove_rule(rule_id)
    audit(store, caller.name, "rule remove", f"rule {rule_id}")
    return Response(status_code=204)


# ---------------------------------------------------------------------- patch plan
@router.get("/patch-plan", tags=["patching"],
            summary="Per host with pending updates: patch now, wait, or needs a window, with the reasons")
def patch_plan(request: Request, _: Read) -> list[PatchDecisionOut]:
    now = time.time()
    return [PatchDecisionOut(**d.as_json()) for d in plan(fleet_facts(store_of(request), now), now)]


# ---------------------------------------------------------------------- downtimes
def _downtime_out(d: Downtime, now: float) -> DowntimeOut:
    return DowntimeOut(id=d.id, host=d.host, service=d.service, start=d.start, end=_finite(d.end), weekly=d.recurring,
                       zone=d.zone, author=d.author, comment=d.comment,
                       active=d.covers(d.host, d.service or "", now) if "*" not in d.host else d.start <= now < d.end)


@router.get("/downtimes", tags=["downtimes"])
def list_downtimes(request: Request, _: Read) -> list[DowntimeOut]:
    now = time.time()
    return [_downtime_out(d, now) for d in NotifyTables(store_of(request)).downtimes()]


@router.post("/downtimes", tags=["downtimes"], status_code=201,
             summary="A one-off downtime (start and end or duration_s) or a weekly window")
def add_downtime(request: Request, body: DowntimeIn, caller: Write) -> DowntimeOut:
    now = time.time()
    store = store_of(request)
    downtime = schedule_downtime(NotifyTables(store), body.host, body.service, start=body.start,
                                 end=body.end, duration_s=body.duration_s, weekly=body.weekly, zone=body.zone,
                                 author=caller.name, comment=body.comment, now=now, force=body.force)
    audit(store, caller.name, "downtime add", target_of(body.host, body.service), downtime_said(downtime))
    return _downtime_out(downtime, now)


@router.delete("/downtimes/{downtime_id}", tags=["downtimes"], status_code=204)
def remove_downtime(request: Request, downtime_id: RowId, caller: Write) -> Response:
    remove_downtime_recorded(store_of(request), downtime_id, caller.name)
    return Response(status_code=204)


# ---------------------------------------------------------------------- acknowledgements
def _ack_out(ack: Any) -> AckOut:
    return AckOut(host=ack.host, service=ack.service, state=NAMES.get(ack.state, "UNKNOWN"),  # type: ignore[arg-type]
                  author=ack.author,
                  comment=ack.comment, sticky=ack.sticky, expires=ack.expires, created=ack.created)


@router.get("/acknowledgements", tags=["acknowledgements"])
def list_acks(request: Request, _: Read) -> list[AckOut]:
    return [_ack_out(ack) for ack in NotifyTables(store_of(request)).acknowledgements().values()]


@router.post("/acknowledgements", tags=["acknowledgements"], status_code=201,
             summary="Acknowledge a problem: no more notifications for it until it changes (or for good, sticky)")
def add_ack(request: Request, body: AckIn, caller: Write) -> AckOut:
    store = store_of(request)
    ack = acknowledge(NotifyTables(store), body.host, body.service, caller.name, body.comment,
                      sticky=body.sticky, expire_s=body.expire_s, now=time.time())
    audit(store, caller.name, "acknowledge", target_of(body.host, body.service), body.comment)
    return _ack_out(ack)


@router.delete("/acknowledgements", tags=["acknowledgements"], status_code=204)
def remove_ack(request: Request, host: str, caller: Write, service: str = "") -> Response:
    store = store_of(request)
    if not NotifyTables(store).remove_acknowledgement(host, service):
        raise ApiError(404, f"{host} {service or '(host)'} is not acknowledged")
    audit(store, caller.name, "acknowledgement remove", target_of(host, service))
    return Response(status_code=204)


# ---------------------------------------------------------------------- passive results and active checks
@router.post("/results", tags=["passive results"], status_code=202,
             summary="Submit a passive result; it waits in the store's inbox until the daemon takes it")
def submit_result(request: Request, body: ResultIn, _: Write) -> Accepted:
    state = body.state if isinstance(body.state, int) else BY_NAME[
        {"WARNING": "WARN", "CRITICAL": "CRIT"}.get(body.state, body.state)]
    ActiveTables(store_of(request)).submit(body.host, body.service, state, body.output)
    return Accepted(accepted=True, message="stored in the inbox; the daemon records it within seconds")


@router.get("/checks", tags=["active and passive services"])
def list_checks(request: Request, _: Read, host: str | None = None) -> list[CheckOut]:
    return [CheckOut(host=c.host, name=c.name, argv=list(c.argv), on=c.on, passive=c.passive, interval_s=c.interval_s,
                     freshness_s=c.freshness_s) for c in ActiveTables(store_of(request)).checks(host)]


@router.post("/hosts/{host}/checks", tags=["active and passive services"], status_code=201,
             summary="Add a Nagios plugin (argv, one word each) or a passive service")
def add_check(request: Request, host: str, body: CheckIn, caller: Admin) -> CheckOut:
    check = ActiveCheck(host, body.name, tuple(body.argv), interval_s=body.interval_s,
                        retry_interval_s=body.retry_interval_s, max_attempts=body.max_attempts,
                        timeout_s=body.timeout_s, on=body.on, passive=body.passive, freshness_s=body.freshness_s,
                        stale_state=body.stale_state, host_check=body.host_check)
    tables = ActiveTables(store_of(request))
    tables.store.host(host)
    tables.add(check, replace=body.replace)
    audit(tables.store, caller.name, "check add", target_of(host, check.name), redacted(check.argv))
    return CheckOut(host=host, name=check.name, argv=list(check.argv), on=check.on, passive=check.passive,
                    interval_s=check.interval_s, freshness_s=check.freshness_s)


@router.delete("/hosts/{host}/checks/{name:path}", tags=["active and passive services"], status_code=204)
def remove_check(request: Request, host: str, name: str, caller: Admin) -> Response:
    store = store_of(request)
    ActiveTables(store).remove(host, name)
    audit(store, caller.name, "check remove", target_of(host, name))
    return Response(status_code=204)


# ---------------------------------------------------------------------- notification rules
@router.get("/notification-rules", tags=["notification rules"], summary="Rules in order of id")
def list_notification_rules(request: Request, _: Read) -> list[NotificationRuleOut]:
    return [NotificationRuleOut(id=r.id, spec=r.to_json()) for r in NotifyTables(store_of(request)).rules()]


@router.post("/notification-rules", tags=["notification rules"], status_code=201,
             summary="Add a rule: who hears about which state changes, when and how")
def add_notification_rule(request: Request, body: NotificationRuleIn, caller: Admin) -> NotificationRuleOut:
    tables = NotifyTables(store_of(request))
    rule = NotificationRule.from_json(0, body.model_dump())
    unknown = set(rule.contacts) - set(tables.contacts())
    if unknown:
        raise ApiError(400, f"unknown contact {', '.join(sorted(unknown))}; `watchkeeper notify list` shows them")
    rule_id = tables.add_rule(rule)
    audit(tables.store, caller.name, "notification rule add", f"notification rule {rule_id}",
          json.dumps(rule.to_json(), sort_keys=True))
    return NotificationRuleOut(id=rule_id, spec=rule.to_json())


@router.delete("/notification-rules/{rule_id}", tags=["notification rules"], status_code=204)
def remove_notification_rule(request: Request, rule_id: RowId, caller: Admin) -> Response:
    store = store_of(request)
    NotifyTables(store).remove_rule(rule_id)
    audit(store, caller.name, "notification rule remove", f"notification rule {rule_id}")
    return Response(status_code=204)


# ---------------------------------------------------------------------- audit log
@router.get("/audit", tags=["audit"], summary="Who changed what, newest first")
def audit_log(request: Request, _: Read, target: Annotated[str | None, Query(max_length=1000)] = None,
              limit: Annotated[int, Query(ge=1, le=10000)] = 200) -> list[AuditOut]:
    return [AuditOut(id=e.id, at=e.at, actor=e.actor, action=e.action, target=e.target, detail=e.detail)
            for e in AuditTables(store_of(request)).entries(limit, target)]
