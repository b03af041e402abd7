"""Configuration through the UI and the API, over real HTTP: hosts, discovery service by
service, downtimes; and every change in the audit log with the user or token who made it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute

from tests.web.served import PASSWORD, seed, served
from tests.web.test_pages import csrf_of, logged_in
from watchkeeper.model.cycles import ServiceSpec
from watchkeeper.store.audit_tables import AuditTables
from watchkeeper.store.database import Store
from watchkeeper.store.web_tables import WebTables
from watchkeeper.web import api
from watchkeeper.web.link import NoDaemon

FOUND = [ServiceSpec("Filesystem /var", "df", "/var"), ServiceSpec("Memory", "mem", ""),
         ServiceSpec("Filesystem /srv", "df", "/srv"), ServiceSpec("Interface eth0", "interfaces", "eth0")]
"""What discovery finds on web1: CPU load has vanished, two services are new."""


class Discovering(NoDaemon):
    async def discover(self, host: str) -> list[ServiceSpec]:
        return list(FOUND)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Store]]:
    store = seed(tmp_path / "wk.db")
    WebTables(store).set_user("root", PASSWORD, "admin")
    with served(tmp_path / "wk.db", Discovering()) as url:
        yield url, store


def actions(store: Store) -> list[tuple[str, str, str]]:
    return [(e.actor, e.action, e.target) for e in reversed(AuditTables(store).entries())]


def test_hosts_are_added_edited_and_removed_in_the_ui_keeping_history_by_default(site: tuple[str, Store]) -> None:
    url, store = site
    with logged_in(url, "root") as client:
        token = csrf_of(client.get("/hosts").text)
        added = client.post("/actions/host-add", data={"csrf": token, "name": "db1", "uri": "none",
                                                       "interval_s": "30", "labels": "role=db, site=b"})
        assert added.status_code == 303 and added.headers["location"] == "/hosts/db1"
        page = client.get("/hosts/db1").text
        assert 'value="role=db, site=b"' in page and 'name="purge"' in page
        edited = client.post("/actions/host-edit", data={"csrf": token, "name": "db1", "uri": "none",
                                                         "interval_s": "120", "labels": "role=db"})
        assert edited.status_code == 303
        config = store.host("db1").config
        assert config.interval_s == 120 and config.opts.labels == {"role": "db"}
        bad = client.post("/actions/host-add", data={"csrf": token, "name": "db2", "uri": "none", "labels": "oops"})
        assert bad.status_code == 400 and "is not KEY=VALUE" in bad.text
        assert client.post("/actions/host-remove", data={"csrf": token, "name": "web2"}).status_code == 303
        assert store.query("SELECT count(*) FROM state_history WHERE host = 'web2'")[0][0] > 0  # kept
        assert client.post("/actions/host-remove", data={"csrf": token, "name": "web3", "purge": "true"}
                           ).status_code == 303
        assert store.query("SELECT count(*) FROM state_history WHERE host = 'web3'")[0][0] == 0
        audit_page = client.get("/audit", params={"target": "db1"}).text
    assert [h.config.name for h in store.hosts()] == ["db1", "web1"]
    assert actions(store) == [("root", "host add", "db1"), ("root", "host edit", "db1"),
                              ("root", "host remove", "web2"), ("root", "host remove", "web3")]
    assert audit_page.count('class="audit-entry"') == 2 and "was none, every 30 s" in audit_page


def test_changing_hosts_needs_the_admin_scope_as_in_the_api(site: tuple[str, Store]) -> None:
    url, store = site
    with logged_in(url, "alice") as client:  # write scope: may acknowledge, not add hosts
        token = csrf_of(client.get("/hosts").text)
        refused = client.post("/actions/host-add", data={"csrf": token, "name": "db1", "uri": "none"})
        assert refused.status_code == 403 and "needs admin" in refused.text
        forged = client.post("/actions/host-remove", data={"csrf": "forged", "name": "web1"})
        assert forged.status_code == 403
    assert [h.config.name for h in store.hosts()] == ["web1", "web2", "web3"] and actions(store) == []


def test_discovery_service_by_service_accepts_ignores_and_removes(site: tuple[str, Store]) -> None:
    url, store = site
    with logged_in(url, "alice") as client:
        page = client.get("/hosts/web1/discovery").text
        assert re.search(r"New, not monitored <small>\(2\)", page) and "Filesystem /srv" in page
        assert re.search(r"Vanished, still monitored <small>\(1\)", page) and "CPU load" in page
        token = csrf_of(page)
        form = {"csrf": token, "host": "web1", "picked": "true"}
        nothing_ticked = client.post("/actions/discover", data={**form, "do": "accept"})
        assert nothing_ticked.status_code == 303 and len(store.service_specs("web1")) == 3  # not "all of them"
        done = client.post("/actions/discover", data={**form, "do": "accept", "service": ["Filesystem /srv"]})
        assert done.status_code == 303 and done.headers["location"] == "/hosts/web1/discovery"
        assert client.post("/actions/discover", data={**form, "do": "ignore", "service": ["Interface eth0"]}
                           ).status_code == 303
        assert client.post("/actions/discover", data={**form, "do": "remove", "service": ["CPU load"]}
                           ).status_code == 303
        after = client.get("/hosts/web1/discovery").text
        assert re.search(r"New, not monitored <small>\(0\)", after)
        assert re.search(r"Ignored <small>\(1\)", after) and "Interface eth0" in after
        assert client.post("/actions/discover", data={**form, "do": "reboot", "service": ["Memory"]}
                           ).status_code == 400
    assert {s.name for s in store.service_specs("web1")} == {"Filesystem /var", "Memory", "Filesystem /srv"}
    assert store.ignored_services("web1") == ["Interface eth0"]
    assert actions(store) == [("alice", "discovery accept", "web1"), ("alice", "service ignore", "web1"),
                              ("alice", "discovery accept", "web1")]


def test_a_downtime_is_ended_from_the_host_page(site: tuple[str, Store]) -> None:
    url, store = site
    with logged_in(url, "alice") as client:
        token = csrf_of(client.get("/hosts/web2").text)
        assert client.post("/actions/downtime", data={"csrf": token, "host": "web2", "duration": "2h",
                                                      "comment": "disk swap", "next": "/hosts/web2"}
                           ).status_code == 303
        page = client.get("/hosts/web2").text
        downtime_id = re.search(r'name="downtime" value="(\d+)"', page)
        assert downtime_id and "disk swap" in page
        ended = client.post("/actions/downtime-remove", data={"csrf": token, "downtime": downtime_id[1],
                                                              "next": "/hosts/web2"})
        assert ended.status_code == 303 and "disk swap" not in client.get("/hosts/web2").text
        again = client.post("/actions/downtime-remove", data={"csrf": token, "downtime": downtime_id[1]})
        assert again.status_code == 404
    assert actions(store) == [("alice", "downtime add", "web2"), ("alice", "downtime remove", "web2")]


UNAUDITED = {
    ("POST", "/api/v1/results"): "passive results are data, not configuration",
    ("POST", "/api/v1/hosts/{host}/discovery"): "looks only: nothing is accepted",
    ("POST", "/api/v1/hosts/{host}/reschedule"): "checks now: changes nothing",
}


def test_every_change_through_the_api_is_in_the_audit_log_with_its_token(tmp_path: Path) -> None:
    store = seed(tmp_path / "wk.db")
    admin = {"Authorization": f"Bearer {WebTables(store).add_token('deploy', 'admin')[1]}"}
    calls = [
        ("POST", "/api/v1/hosts", {"name": "db1", "uri": "none"}, "host add", "db1"),
        ("PATCH", "/api/v1/hosts/{host}", {"interval_s": 30}, "host edit", "db1"),
        ("POST", "/api/v1/hosts/{host}/checks", {"name": "PING", "argv": ["/bin/true", "--password", "hunter2"]},
         "check add", "db1/PING"),
        ("DELETE", "/api/v1/hosts/{host}/checks/{name}", None, "check remove", "db1/PING"),
        ("DELETE", "/api/v1/hosts/{host}", None, "host remove", "db1"),
        ("POST", "/api/v1/hosts/{host}/discovery/accept", {"only": ["Filesystem /srv"]}, "discovery accept", "web1"),
        ("PUT", "/api/v1/hosts/{host}/ignored/{service}", None, "service ignore", "web1"),
        ("DELETE", "/api/v1/hosts/{host}/ignored/{service}", None, "service unignore", "web1"),
        ("POST", "/api/v1/rules", {"plugin": "df", "params": {"used_percent": [80, 90]}}, "rule add", "rule {id}"),
        ("DELETE", "/api/v1/rules/{rule_id}", None, "rule remove", "rule {id}"),
        ("POST", "/api/v1/downtimes", {"host": "web2", "duration_s": 600, "comment": "x"}, "downtime add", "web2"),
        ("DELETE", "/api/v1/downtimes/{downtime_id}", None, "downtime remove", "web2"),
        ("POST", "/api/v1/acknowledgements", {"host": "web1", "service": "Filesystem /var", "comment": "on it"},
         "acknowledge", "web1/Filesystem /var"),
        ("DELETE", "/api/v1/acknowledgements", None, "acknowledgement remove", "web1/Filesystem /var"),
        ("POST", "/api/v1/notification-rules", {"contacts": ["admin"]}, "notification rule add",
         "notification rule {id}"),
        ("DELETE", "/api/v1/notification-rules/{rule_id}", None, "notification rule remove",
         "notification rule {id}"),
    ]
    made: dict[str, int] = {}  # the id each POST answered with, by what it made
    expected = []
    with served(tmp_path / "wk.db", Discovering()) as url, httpx.Client(base_url=url, timeout=30) as client:
        for method, path, body, action, target in calls:
            kind = action.rsplit(" ", 1)[0]
            real = path.replace("{host}", target.split("/")[0]).replace("{name}", "PING").replace(
                "{service}", "Interface eth0").replace("{rule_id}", str(made.get(kind, ""))).replace(
                "{downtime_id}", str(made.get(kind, "")))
            params = {"host": "web1", "service": "Filesystem /var"} if path.endswith("acknowledgements") and \
                method == "DELETE" else None
            response = client.request(method, real, headers=admin, json=body, params=params)
            assert response.status_code < 300, (method, real, response.text)
            if method == "POST" and isinstance(response.json(), dict) and "id" in response.json():
                made[kind] = response.json()["id"]
            expected.append((action, target.replace("{id}", str(made.get(kind, "")))))
        recorded = client.get("/api/v1/audit", headers=admin).json()
    assert [(e["action"], e["target"]) for e in reversed(recorded)] == expected
    assert {e["actor"] for e in recorded} == {"token:deploy"}
    assert "hunter2" not in repr(recorded) and "/bin/true --password ***" in repr(recorded)
    changing = {(method, route.path.replace(":path}", "}")) for route in api.router.routes
                if isinstance(route, APIRoute) for method in route.methods or ()
                if method in ("POST", "PUT", "PATCH", "DELETE")}
    assert changing - set(UNAUDITED) == {(method, path) for method, path, *_ in calls}, \
        "a route that changes something needs its audit entry (and a line here), or a reason in UNAUDITED"
