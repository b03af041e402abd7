"""Configuration changes the API and the UI share, each recorded in the audit log with who
made it (a web user or `token:NAME`)."""

from __future__ import annotations

import json
import math
from collections.abc import Collection

from watchkeeper.checkapi import render
from watchkeeper.engine.discovery import DiscoveryDiff, diff_services
from watchkeeper.model.cycles import ServiceSpec
from watchkeeper.model.hosts import HostConfig
from watchkeeper.model.notifications import Downtime
from watchkeeper.store.audit_tables import AuditTables
from watchkeeper.store.database import Store
from watchkeeper.store.notify_tables import NotifyTables


def audit(store: Store, actor: str, action: str, target: str, detail: str = "") -> None:
    AuditTables(store).record(actor, action, target, detail)


def target_of(host: str, service: str | None) -> str:
    """An entry's target: the host, or `host/service`."""
    return f"{host}/{service}" if service else host


def described(host: HostConfig) -> str:
    return f"{host.uri}, every {host.interval_s:g} s, options {json.dumps(host.options, sort_keys=True)}"


def downtime_said(downtime: Downtime) -> str:
    end = render.datetime(downtime.end) if math.isfinite(downtime.end) else "open end"
    weekly = f", weekly {downtime.recurring} ({downtime.zone})" if downtime.recurring else ""
    return f"downtime {downtime.id}: {render.datetime(downtime.start)} to {end}{weekly}: {downtime.comment}"


def remove_downtime_recorded(store: Store, downtime_id: int, actor: str) -> None:
    tables = NotifyTables(store)
    gone = next((d for d in tables.downtimes() if d.id == downtime_id), None)
    tables.remove_downtime(downtime_id)  # says so when there is none
    if gone is not None:
        audit(store, actor, "downtime remove", target_of(gone.host, gone.service), downtime_said(gone))


def accept_discovered(store: Store, host: str, found: list[ServiceSpec], actor: str, *, new: bool = True,
                      changed: bool = False, vanished: bool = False, only: Collection[str] | None = None
                      ) -> DiscoveryDiff:
    """Compare what discovery found with what is monitored and accept what is asked for: new
    services, changed facts, the removal of vanished ones; with `only`, just those by name."""
    diff = diff_services(store.service_specs(host), found, store.ignored_services(host))

    def wanted(name: str) -> bool:
        return only is None or name in only

    add = [spec for spec in diff.new if new and wanted(spec.name)]
    add += [spec for _, spec in diff.changed if changed and wanted(spec.name)]
    remove = [spec.name for spec in diff.vanished if vanished and wanted(spec.name)]
    if add or remove:
        store.accept_services(host, add, remove)
        said = [f"+{spec.name}" for spec in add] + [f"-{name}" for name in remove]
        audit(store, actor, "discovery accept", host, ", ".join(said))
    return diff


def ignore_services(store: Store, host: str, names: Collection[str], actor: str) -> None:
    store.host(host)
    if not names:
        return
    store.ignore_services(host, names, actor)
    audit(store, actor, "service ignore", host, ", ".join(sorted(names)))


def unignore_services(store: Store, host: str, names: Collection[str], actor: str) -> None:
    store.host(host)
    if not names:
        return
    store.unignore_services(host, names)
    audit(store, actor, "service unignore", host, ", ".join(sorted(names)))
