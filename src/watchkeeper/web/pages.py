"""The UI: server-rendered pages behind a session login. Every form carries the session's CSRF
token; every value reaches the page through the template engine's escaping."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader

from watchkeeper.checkapi import render
from watchkeeper.engine.discovery import diff_services
from watchkeeper.errors import ConfigError
from watchkeeper.model.cycles import DISCOVERY_SERVICE
from watchkeeper.model.hosts import HostConfig
from watchkeeper.model.states import NAMES
from watchkeeper.notify.actions import acknowledge, schedule_downtime
from watchkeeper.patching.facts import fleet_facts
from watchkeeper.patching.plan import PATCH_NOW, WAIT, WINDOW, plan
from watchkeeper.store.audit_tables import AuditTables
from watchkeeper.store.baseline_tables import BaselineTables
from watchkeeper.store.database import MetricPoint, Store
from watchkeeper.store.notify_tables import NotifyTables
from watchkeeper.store.web_tables import Session, WebTables, allows
from watchkeeper.web import views
from watchkeeper.web.api_models import ServiceOut
from watchkeeper.web.auth import SESSION_COOKIE, check_csrf, session_of
from watchkeeper.web.capacity import capacity
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
from watchkeeper.web.errors import ApiError
from watchkeeper.web.graph import draw, timeline
from watchkeeper.web.graph_defs import charts
from watchkeeper.web.series import CHECK_FORECASTS, GROWTH, RANGES, check_forecast

SEARCH_LIMIT = 1000
DOWNTIME_CHOICES = {"1h": 3600.0, "2h": 7200.0, "8h": 28800.0, "1d": 86400.0, "1w": 604800.0}

router = APIRouter(include_in_schema=False)
_environment = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True)
templates = Jinja2Templates(env=_environment)


def _age(since: float | None) -> str:
    if since is None:
        return "-"
    seconds = max(time.time() - since, 0.0)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


_environment.filters["age"] = _age
_environment.filters["when"] = lambda ts: "-" if ts is None else render.datetime(ts) if math.isfinite(ts) \
    else "open end"
_environment.globals["state_name"] = lambda code: NAMES.get(code, "UNKNOWN")
_environment.globals["timespan"] = render.timespan
_environment.globals["service_url"] = lambda host, service, **extra: "/service?" + urlencode(
    {"host": host, "service": service, **extra})
_environment.globals["host_url"] = lambda host: "/hosts/" + quote(host, safe="")


class LoginRequired(Exception):
    def __init__(self, path: str) -> None:
        self.path = path


def current_session(request: Request) -> Session:
    session = session_of(request.app.state.access, request)
    if session is None:
        raise LoginRequired(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return session


Logged = Annotated[Session, Depends(current_session)]


def _store(request: Request) -> Store:
    store: Store = request.app.state.access.store()
    return store


def _page(request: Request, name: str, session: Session | None, status: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"session": session, "ranges": list(RANGES), **context},
                                      status_code=status)


def _safe_next(target: str) -> str:
    """Only a path on this server: never an absolute or scheme-relative URL (an open redirect)."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


# ---------------------------------------------------------------------- login
@router.get("/login")
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    users = WebTables(_store(request)).users()
    return _page(request, "login.html", None, next=_safe_next(next), error="", no_users=not users)


@router.post("/login")
def log_in(request: Request, name: Annotated[str, Form(max_length=200)],
           password: Annotated[str, Form(max_length=1000)], next: Annotated[str, Form()] = "/") -> Response:
    cookie = WebTables(_store(request)).log_in(name, password, time.time())
    if cookie is None:
        return _page(request, "login.html", None, status=401, next=_safe_next(next),
                     error="Wrong name or password.", no_users=False)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, cookie, httponly=True, samesite="strict", path="/")
    return response


@router.post("/logout")
def log_out(request: Request, session: Logged, csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(session, csrf)
    WebTables(_store(request)).log_out(request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# ---------------------------------------------------------------------- pages
@router.get("/")
def overview(request: Request, session: Logged, refresh: Annotated[int, Query(ge=2, le=3600)] = 30
             ) -> HTMLResponse:
    """Counts, hosts down and problems; the page fetches them again every `refresh` seconds."""
    store = _store(request)
    marks = views.Marks.load(store)
    found = views.problems(store, marks)
    down = [row for row in store.query("SELECT name, state_since, last_error FROM hosts WHERE state = 'DOWN' "
                                       "ORDER BY name")]
    return _page(request, "overview.html", session, counts=views.state_counts(store), hosts_down=down,
                 problems=[s for s in found if views.unhandled(s)],
                 handled=[s for s in found if not views.unhandled(s)],
                 host_count=store.query("SELECT count(*) FROM hosts")[0][0], refresh=refresh,
                 soonest=views.soonest_full(store), changes=views.recent_changes(store),
                 notified=views.notifications_today(store), health=_health(request))


def _health(request: Request) -> Any:
    """The daemon's own figures; None when this web server runs without it."""
    return request.app.state.daemon.health()


@router.get("/patch-plan")
def patch_plan_page(request: Request, session: Logged) -> HTMLResponse:
    now = time.time()
    decisions = plan(fleet_facts(_store(request), now), now)
    return _page(request, "patch_plan.html", session, decisions=decisions,
                 groups=[(name, [d for d in decisions if d.decision == name]) for name in (PATCH_NOW, WINDOW, WAIT)])


@router.get("/capacity")
def capacity_page(request: Request, session: Logged) -> HTMLResponse:
    return _page(request, "capacity.html", session, capacity=capacity(_store(request)))


@router.get("/services")
def search(request: Request, session: Logged, q: str = "", host: str = "",
           state: Annotated[list[str] | None, Query()] = None, problems: bool = False) -> HTMLResponse:
    store = _store(request)
    marks = views.Marks.load(store)
    wanted = {s.upper() for s in state or []}
    found: list[ServiceOut] = []
    total = 0
    for service in views.find_services(store, marks, host or None, wanted, q, problems):
        total += 1
        if len(found) < SEARCH_LIMIT:
            found.append(service)
    return _page(request, "services.html", session, services=found, total=total, q=q, host=host, wanted=wanted,
                 problems=problems, states=["CRIT", "UNKNOWN", "WARN", "OK", "PENDING"], limit=SEARCH_LIMIT)


HOST_SORTS = ("name", "state", "problems", "checked")


@router.get("/hosts")
def hosts_page(request: Request, session: Logged, q: str = "", state: str = "", label: str = "",
               sort: str = "name", group: str = "") -> HTMLResponse:
    """Every host: its state, its services by state, labels and last check; filtered, sorted and
    grouped by a label's value."""
    store = _store(request)
    counts: dict[str, dict[str, int]] = {}
    for host, code, stale, n in store.query("SELECT host, state, stale, count(*) FROM services GROUP BY host, state, "
                                            "stale"):
        name = "STALE" if stale else NAMES.get(code, "PENDING")
        counts.setdefault(host, {})[name] = counts.setdefault(host, {}).get(name, 0) + n
    wanted_key, _, wanted_value = label.partition("=")
    rows: list[dict[str, Any]] = []
    for row in store.hosts():
        labels = row.config.opts.labels
        text = " ".join([row.config.name, row.config.uri, *(f"{k}={v}" for k, v in labels.items())]).lower()
        if q and q.lower() not in text or state and row.state != state.upper():
            continue
        if wanted_key and labels.get(wanted_key) != wanted_value and not (not wanted_value and wanted_key in labels):
            continue
        by_state = counts.get(row.config.name, {})
        problems = sum(by_state.get(name, 0) for name in ("CRIT", "UNKNOWN", "WARN", "STALE"))
        rows.append({"row": row, "labels": labels, "states": by_state, "problems": problems})
    keys = {"name": lambda r: r["row"].config.name,
            "state": lambda r: (r["row"].state != "DOWN", r["row"].config.name),
            "problems": lambda r: (-r["problems"], r["row"].config.name),
            "checked": lambda r: (r["row"].last_fetch or 0.0, r["row"].config.name)}
    rows.sort(key=keys.get(sort, keys["name"]))
    groups: dict[str, list[dict[str, Any]]] = {}
    for one in rows:
        groups.setdefault(one["labels"].get(group, f"(no {group})") if group else "", []).append(one)
    label_keys = sorted({key for one in rows for key in one["labels"]})
    return _page(request, "hosts.html", session, groups=sorted(groups.items()), total=len(rows), q=q, state=state,
                 label=label, sort=sort, sorts=HOST_SORTS, group=group, label_keys=label_keys,
                 state_names=("CRIT", "UNKNOWN", "WARN", "STALE", "PENDING", "OK"))


@router.get("/hosts/{name}")
def host_page(request: Request, session: Logged, name: str) -> HTMLResponse:
    store = _store(request)
    host = views.host_out(store, name)
    marks = views.Marks.load(store)
    services = [views.service_out(row, marks) for row in store.services(name)]
    discovery = next((s for s in services if s.name == DISCOVERY_SERVICE), None)
    return _page(request, "host.html", session, host=host, services=services, discovery=discovery,
                 downtimes=[d for d in marks.downtimes if d.host == name and d.end > marks.now],
                 checks=store.query("SELECT name, spec FROM active_checks WHERE host = ?", (name,)),
                 host_down_since=host.state_since if host.state == "DOWN" else None,
                 durations=list(DOWNTIME_CHOICES),
                 labels_text=", ".join(f"{k}={v}" for k, v in sorted(host.options.get("labels", {}).items())))


@router.get("/service")
def service_page(request: Request, session: Logged, host: str, service: str, range: str = "25h") -> HTMLResponse:
    if range not in RANGES:
        range = "25h"
    store = _store(request)
    marks = views.Marks.load(store)
    current = views.service_out(store.service(host, service), marks)
    end = time.time()
    start = end - RANGES[range]
    series = views.metrics(store, host, service, start, end, source=request.app.state.metric_source).series
    baselines = BaselineTables(store).for_service(host, service)
    graphs, forecasts = [], []
    growths = {one.metric.removesuffix(GROWTH) + "_used_bytes": one.points[-1][1] for one in series
               if one.metric.endswith(GROWTH) and one.points}
    for one in series:
        points = [MetricPoint(*p) for p in one.points]
        graphs.append(draw(one.metric, points, start, end, max((end - start) / 720, 60.0), (one.warn, one.crit),
                           baselines.get(one.metric), growths.get(one.metric)))
        if one.metric.endswith(CHECK_FORECASTS) and points:
            said = check_forecast(one.metric, points[-1].avg)
            if said:
                forecasts.append(said)
    history = store.history(host, service, 200)
    chart_specs = [json.dumps({"title": c.title, "unit": c.unit, "kind": c.kind, "metrics": c.metrics,
                               "labels": c.labels}) for c in charts([one.metric for one in series])]
    return _page(request, "service.html", session, service=current, range=range, graphs=graphs, charts=chart_specs,
                 forecasts=forecasts, history=history, timeline=timeline(history, start, end),
                 ack=marks.acks.get((host, service)),
                 downtimes=[d for d in marks.downtimes if d.covers(host, service, marks.now)],
                 durations=list(DOWNTIME_CHOICES))


# ---------------------------------------------------------------------- actions
def _acting(request: Request, session: Session, csrf: str, need: str = "write") -> NotifyTables:
    """Acknowledging, downtimes, discovery need the write scope; hosts need admin, as in the API."""
    check_csrf(session, csrf)
    if not allows(session.scope, need):
        raise ApiError(403, f"user {session.user} may only look (scope {session.scope}); acting needs write"
                       if need == "write" else f"user {session.user} has the {session.scope} scope; changing "
                       f"hosts needs {need}")
    return NotifyTables(_store(request))


@router.post("/actions/ack")
def ack_action(request: Request, session: Logged, host: Annotated[str, Form()], csrf: Annotated[str, Form()],
               comment: Annotated[str, Form(max_length=2000)], service: Annotated[str, Form()] = "",
               sticky: Annotated[bool, Form()] = False, next: Annotated[str, Form()] = "/") -> Response:
    tables = _acting(request, session, csrf)
    comment = comment or "acknowledged in the web UI"
    acknowledge(tables, host, service, session.user, comment, sticky=sticky, expire_s=None, now=time.time())
    audit(tables.store, session.user, "acknowledge", target_of(host, service), comment)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/actions/unack")
def unack_action(request: Request, session: Logged, host: Annotated[str, Form()], csrf: Annotated[str, Form()],
                 service: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/") -> Response:
    tables = _acting(request, session, csrf)
    if tables.remove_acknowledgement(host, service):
        audit(tables.store, session.user, "acknowledgement remove", target_of(host, service))
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/actions/downtime")
def downtime_action(request: Request, session: Logged, host: Annotated[str, Form()], csrf: Annotated[str, Form()],
                    duration: Annotated[str, Form()], comment: Annotated[str, Form(max_length=2000)],
                    service: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/") -> Response:
    tables = _acting(request, session, csrf)
    if duration not in DOWNTIME_CHOICES:
        raise ApiError(400, f"duration {duration!r} is not one of {', '.join(DOWNTIME_CHOICES)}")
    made = schedule_downtime(tables, host, service or None, start=None, end=None,
                             duration_s=DOWNTIME_CHOICES[duration], weekly="", zone="UTC", author=session.user,
                             comment=comment, now=time.time())
    audit(tables.store, session.user, "downtime add", target_of(host, service), downtime_said(made))
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/actions/downtime-remove")
def downtime_remove_action(request: Request, session: Logged, downtime: Annotated[int, Form(ge=1, le=2**63 - 1)],
                           csrf: Annotated[str, Form()], next: Annotated[str, Form()] = "/") -> Response:
    tables = _acting(request, session, csrf)
    remove_downtime_recorded(tables.store, downtime, session.user)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/actions/check")
def check_now_action(request: Request, session: Logged, host: Annotated[str, Form()], csrf: Annotated[str, Form()],
                     service: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/") -> Response:
    """Check now: the host's agent (all its agent services come from one fetch) or one active service."""
    _acting(request, session, csrf)
    _store(request).host(host)
    if not request.app.state.daemon.reschedule(host, service or None, time.time()):
        raise ApiError(409, f"this daemon checks nothing under {host} {service}".strip())
    return RedirectResponse(_safe_next(next), status_code=303)


DISCOVERY_DOINGS = ("accept", "ignore", "remove", "unignore")


@router.post("/actions/discover")
async def discover_action(request: Request, host: Annotated[str, Form()], csrf: Annotated[str, Form()],
                          do: Annotated[str, Form()] = "accept", picked: Annotated[bool, Form()] = False,
                          service: Annotated[list[str] | None, Form(max_length=10000)] = None) -> Response:
    """Discovery per service (`picked`: the discovery page's forms, acting on the ticked
    `service`s only, none when none is ticked): accept new or changed ones, ignore (never
    offered again), remove vanished ones, offer ignored ones again. Otherwise: accept
    everything new (the host page's button)."""
    session = current_session(request)
    store = _acting(request, session, csrf).store
    store.host(host)
    if do not in DISCOVERY_DOINGS:
        raise ApiError(400, f"{do!r} is not one of {', '.join(DISCOVERY_DOINGS)}")
    names = service or []
    if do == "ignore":
        ignore_services(store, host, names, session.user)
    elif do == "unignore":
        unignore_services(store, host, names, session.user)
    else:
        found = await request.app.state.daemon.discover(host)
        only = names if picked else None
        accept_discovered(store, host, found, session.user, new=do == "accept", changed=do == "accept" and picked,
                          vanished=do == "remove", only=only)
    return RedirectResponse("/hosts/" + quote(host, safe="") + ("/discovery" if picked else ""), status_code=303)


@router.get("/hosts/{name}/discovery")
async def discovery_page(request: Request, name: str) -> HTMLResponse:
    """What discovery finds now, service by service, with what can be done about each."""
    session = current_session(request)
    store = _store(request)
    store.host(name)
    found = await request.app.state.daemon.discover(name)
    ignored = store.ignored_services(name)
    diff = diff_services(store.service_specs(name), found, ignored)
    return _page(request, "discovery.html", session, host=name, diff=diff,
                 ignored_gone=sorted(set(ignored) - {s.name for s in diff.ignored}))


def _labels(text: str) -> dict[str, str]:
    """`role=storage, site=b`: the labels a host form carries."""
    labels: dict[str, str] = {}
    for pair in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"label {pair!r} is not KEY=VALUE; separate labels with commas")
        labels[key.strip()] = value.strip()
    return labels


@router.post("/actions/host-add")
def host_add_action(request: Request, session: Logged, csrf: Annotated[str, Form()],
                    name: Annotated[str, Form(max_length=253)], uri: Annotated[str, Form(max_length=1000)],
                    interval_s: Annotated[float, Form(ge=1.0, le=86400.0)] = 60.0,
                    labels: Annotated[str, Form(max_length=4000)] = "") -> Response:
    store = _acting(request, session, csrf, "admin").store
    host = HostConfig(name.strip(), uri.strip(), interval_s, {"labels": _labels(labels)} if labels.strip() else {})
    store.add_host(host)
    audit(store, session.user, "host add", host.name, described(host))
    return RedirectResponse("/hosts/" + quote(host.name, safe=""), status_code=303)


@router.post("/actions/host-edit")
def host_edit_action(request: Request, session: Logged, csrf: Annotated[str, Form()],
                     name: Annotated[str, Form(max_length=253)], uri: Annotated[str, Form(max_length=1000)],
                     interval_s: Annotated[float, Form(ge=1.0, le=86400.0)],
                     labels: Annotated[str, Form(max_length=4000)] = "") -> Response:
    store = _acting(request, session, csrf, "admin").store
    before = store.host(name).config
    options = {key: value for key, value in before.options.items() if key != "labels"}
    if labels.strip():
        options["labels"] = _labels(labels)
    changed = HostConfig(name, uri.strip(), interval_s, options)
    if changed != before:
        store.update_host(changed)
        audit(store, session.user, "host edit", name, f"was {described(before)}; now {described(changed)}")
    return RedirectResponse("/hosts/" + quote(name, safe=""), status_code=303)


@router.post("/actions/host-remove")
def host_remove_action(request: Request, session: Logged, csrf: Annotated[str, Form()],
                       name: Annotated[str, Form(max_length=253)], purge: Annotated[bool, Form()] = False
                       ) -> Response:
    store = _acting(request, session, csrf, "admin").store
    store.remove_host(name, keep_history=not purge)
    audit(store, session.user, "host remove", name, "history deleted" if purge else "history kept")
    return RedirectResponse("/hosts", status_code=303)


@router.get("/audit")
def audit_page(request: Request, session: Logged, target: str = "") -> HTMLResponse:
    return _page(request, "audit.html", session, target=target,
                 entries=AuditTables(_store(request)).entries(500, target or None))
