"""The REST API over real HTTP against uvicorn on loopback: auth, every resource, JSON errors."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.web.served import seed, served
from watchkeeper.model.hosts import HostConfig
from watchkeeper.store.active_tables import ActiveTables
from watchkeeper.store.database import Store
from watchkeeper.store.web_tables import WebTables


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[httpx.Client, Store, dict[str, str]]]:
    store = seed(tmp_path / "wk.db")
    tables = WebTables(store)
    tokens = {scope: tables.add_token(f"{scope}-token", scope)[1] for scope in ("read", "write", "admin")}
    with served(tmp_path / "wk.db") as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client, store, tokens


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_request_without_a_token_gets_401_json_saying_how_to_get_one(api: tuple[httpx.Client, Store, dict[str, str]]
                                                                       ) -> None:
    client, _, _ = api
    response = client.get("/api/v1/services")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"
    assert "watchkeeper token add" in response.json()["error"]


def test_an_unknown_or_revoked_token_gets_401_and_a_read_token_cannot_write(
        api: tuple[httpx.Client, Store, dict[str, str]]) -> None:
    client, store, tokens = api
    assert client.get("/api/v1/hosts", headers=auth("wk_not-a-token")).status_code == 401
    token_id, secret = WebTables(store).add_token("soon-gone", "admin")
    assert client.get("/api/v1/hosts", headers=auth(secret)).status_code == 200
    WebTables(store).revoke_token(token_id)
    revoked = client.get("/api/v1/hosts", headers=auth(secret))
    assert revoked.status_code == 401 and "revoked" in revoked.json()["error"]
    denied = client.post("/api/v1/acknowledgements", headers=auth(tokens["read"]),
                         json={"host": "web1", "service": "Filesystem /var", "comment": "x"})
    assert denied.status_code == 403
    assert "write scope" in denied.json()["error"]
    assert client.post("/api/v1/hosts", headers=auth(tokens["write"]),
                       json={"name": "db1", "uri": "none"}).status_code == 403


def test_tokens_are_stored_only_as_hashes(api: tuple[httpx.Client, Store, dict[str, str]]) -> None:
    _, store, tokens = api
    stored = " ".join(str(value) for row in store.query("SELECT * FROM api_tokens") for value in row)
    assert all(secret not in stored and secret[3:] not in stored for secret in tokens.values())


def test_hosts_can_be_added_read_changed_and_removed(api: tuple[httpx.Client, Store, dict[str, str]]) -> None:
    client, _, tokens = api
    admin = auth(tokens["admin"])
    created = client.post("/api/v1/hosts", headers=admin, json={"name": "db1", "uri": "none", "interval_s": 30})
    assert created.status_code == 201 and created.json()["interval_s"] == 30
    assert client.post("/api/v1/hosts", headers=admin, json={"name": "db1", "uri": "none"}).status_code == 400
    changed = client.patch("/api/v1/hosts/db1", headers=admin, json={"interval_s": 120})
    assert changed.json()["interval_s"] == 120 and changed.json()["uri"] == "none"
    assert [h["name"] for h in client.get("/api/v1/hosts", headers=admin).json()] == ["db1", "web1", "web2", "web3"]
    assert client.delete("/api/v1/hosts/db1", headers=admin).status_code == 204
    gone = client.get("/api/v1/hosts/db1", headers=admin)
    assert gone.status_code == 404 and "watchkeeper host list" in gone.json()["error"]


def test_removing_a_host_keeps_its_history_unless_purged(api: tuple[httpx.Client, Store, dict[str, str]]) -> None:
    client, store, tokens = api
    admin = auth(tokens["admin"])
    kept = store.query("SELECT count(*) FROM state_history WHERE host = 'web2'")[0][0]
    assert kept > 0
    assert client.delete("/api/v1/hosts/web2", headers=admin).status_code == 204
    assert store.query("SELECT count(*) FROM state_history WHERE host = 'web2'")[0][0] == kept
    assert client.delete("/api/v1/hosts/web3", headers=admin, params={"purge": "true"}).status_code == 204
    assert store.query("SELECT count(*) FROM state_history WHERE host = 'web3'")[0][0] == 0


def test_a_downtime_for_no_host_is_refused(api: tuple[httpx.Client, Store, dict[str, str]]) -> None:
    client, _, tokens = api
    refused = client.post("/api/v1/downtimes", headers=auth(tokens["write"]),
                          json={"host": "wbe1", "duration_s": 3600, "comment": "typo"})
    assert refused.status_code == 400 and "no host matches 'wbe1'; did you mean web1" in refused.json()["error"]


def test_a_host_name_with_markup_or_shell_characters_is_refused(api: tuple[httpx.Client, Store, dict[str, str]]
                                                                 ) -> None:
    client, _, tokens = api
    for name in ('<script>alert(1)</script>', "web1;rm -rf /", "$(reboot)"):
        response = client.post("/api/v1/hosts", headers=auth(tokens["admin"]), json={"name": name, "uri": "none"})
        assert response.status_code == 400, name
        assert "not valid" in response.json()["error"]


def test_services_are_listed_filtered_and_read_one_by_one(api: tuple[httpx.Client, Store, dict[str, str]]) -> None:
    client, _, tokens = api
    read = auth(tokens["read"])
    everything = client.get("/api/v1/services", headers=read).json()
    assert len(everything) == 3 * 5 + 1  # three services, Agent and Service discovery per host, one log
    crit = client.get("/api/v1/services", headers=read, params={"state": "CRIT"}).json()
    assert {(s["host"], s["name"]) for s in crit} >= {("web1", "Filesystem /var")}
    assert client.get("/api/v1/services", headers=read, params={"state": "BROKEN"}).status_code == 400
    one = client.get("/api/v1/hosts/web1/services/Filesystem /var", headers=read).json()
    assert one["state"] == "CRIT" and one["state_code"] == 2 and not one["acknowledged"]
    history = client.get("/api/v1/hosts/web1/history/Filesystem /var", headers=read).json()
    assert [h["state"] for h in history][:2] == ["CRIT", "OK"]
    assert client.get("/api/v1/hosts/web1/services/nope", headers=read).status_code == 404


def test_metrics_come_with_levels_over_a_range_and_at_a_resolution(api: tuple[httpx.Client, Store, dict[str, str]]
                                                                    ) -> None:
    client, _, tokens = api
    body = client.get("/api/v1/hosts/web1/metrics/Filesystem /var", headers=auth(tokens["read"]),
                      params={"range": "4h"}).json()
    series = {s["metric"]: s for s in body["series"]}
    assert series["fs_used_percent"]["warn"] == 80.0 and series["fs_used_percent"]["crit"] == 90.0
    assert series["fs_used_bytes"]["unit"] == "B" and series["fs_used_bytes"]["warn"] is None
    fine = series["fs_used_percent"]["points"]
    assert len(fine) >= 45
    coarse = client.get("/api/v1/hosts/web1/metrics/Filesystem /var", headers=auth(tokens["read"]),
                        params={"range": "4h", "resolution": 3600}).json()["series"]
    coarse = next(s["points"] for s in coarse if s["metric"] == "fs_used_percent")
    assert 4 <= len(coarse) <= 6
    assert max(p[3] for p in coarse) == max(p[3] for p in fine)  # the highest value survives the merge
    bad = client.get("/api/v1/hosts/web1/metrics/Filesystem /var", headers=auth(tokens["read"]),
                     params={"range": "3 weeks"})
    assert bad.status_code == 400 and "4h" in bad.json()["error"]


def test_acknowledging_a_problem_and_refusing_to_acknowledge_an_ok_service(
        api: tuple[httpx.Client, Store, dict[str, str]]) -> None:
    client, _, tokens = api
    write = auth(tokens["write"])
    done = client.post("/api/v1/acknowledgements", headers=write,
                       json={"host": "web1", "service": "Filesystem /var", "comment": "cleaning up"})
    assert done.status_code == 201 and done.json()["author"] == "token:write-token"
    assert client.get("/api/v1/services", headers=write, params={"problems": True}).json() == [
        s for s in client.get("/api/v1/services", headers=write, params={"problems": True}).json()
        if s["name"] != "Filesystem /var" or s["host"] != "web1"]
    refused = client.post("/api/v1/acknowledgements", headers=write,
                          json={"host": "web1", "service": "CPU load", "comment": "x"})
    assert refused.status_code == 400 and "no problem to acknowledge" in refused.json()["error"]
    assert client.delete("/api/v1/acknowledgements", headers=write,
                         params={"host": "web1", "service": "Filesystem /var"}).status_code == 204
    assert client.delete("/api/v1/acknowledgements", headers=write,
                         params={"host": "web1", "service": "Filesystem /var"}).status_code == 404


def test_downtimes_are_scheduled_listed_and_removed(api: tuple[httpx.Client, Store, dict[str, str]]) -> None:
    client, _, tokens = api
    write = auth(tokens["write"])
    made = client.post("/api/v1/downtimes", headers=write,
                       json={"host": "web2", "duration_s": 3600, "comment": "kernel update"})
    assert made.status_code == 201 and made.json()["active"]
    weekly = client.post("/api/v1/downtimes", headers=write,
                         json={"host": "web*", "weekly": "sun 02:00-04:00", "zone": "Europe/Berlin",
                               "comment": "backups"})
    assert weekly.status_code == 201 and weekly.json()["end"] is None
    memory = client.get("/api/v1/hosts/web2/services/Memory", headers=write).json()
    assert memory["in_downtime"]
    no_end = client.post("/api/v1/downtimes", headers=write, json={"host": "web2", "comment": "x"})
    assert no_end.status_code == 400 and "end or a duration" in no_end.json()["error"]
    assert len(client.get("/api/v1/downtimes", headers=write).json()) == 2
    assert client.delete(f"/api/v1/downtimes/{made.json()['id']}", headers=write).status_code == 204
    assert client.delete(f"/api/v1/downtimes/{made.json()['id']}", headers=write).status_code == 404


def test_passive_results_wait_in_the_inbox(api: tuple[httpx.Client, Store, dict[str, str]]) -> None:
    client, store, tokens = api
    assert client.post("/api/v1/hosts/web1/checks", headers=auth(tokens["admin"]),
                       json={"name": "Backup", "passive": True, "freshness_s": 93600}).status_code == 201
    sent = client.post("/api/v1/results", headers=auth(tokens["write"]),
                       json={"host": "web1", "service": "Backup", "state": "WARNING", "output": "slow|time=300s"})
    assert sent.status_code == 202
    inbox = ActiveTables(store).take_inbox()
    assert [(r.service, r.state, r.output) for r in inbox] == [("Backup", 1, "slow|time=300s")]
    unknown = client.post("/api/v1/results", headers=auth(tokens["write"]),
                          json={"host": "web1", "service": "Nope", "state": 0, "output": "x"})
    assert unknown.status_code == 404


def test_active_checks_take_argv_as_a_list(api: tuple[httpx.Client, Store, dict[str, str]]) -> None:
    client, _, tokens = api
    admin = auth(tokens["admin"])
    made = client.post("/api/v1/hosts/web1/checks", headers=admin,
                       json={"name": "HTTP", "argv": ["check_http", "-H", "$HOSTADDRESS$; reboot"]})
    assert made.status_code == 201 and made.json()["argv"][2] == "$HOSTADDRESS$; reboot"
    assert [c["name"] for c in client.get("/api/v1/checks", headers=admin).json()] == ["HTTP"]
    assert client.delete("/api/v1/hosts/web1/checks/HTTP", headers=admin).status_code == 204


def test_check_rules_and_notification_rules(api: tuple[httpx.Client, Store, dict[str, str]]) -> None:
    client, _, tokens = api
    admin = auth(tokens["admin"])
    rule = client.post("/api/v1/rules", headers=admin,
                       json={"plugin": "df", "params": {"used_percent": [85, 95]}, "item_glob": "/srv*"})
    assert rule.status_code == 201
    assert client.post("/api/v1/rules", headers=admin, json={"plugin": "nope", "params": {}}).status_code == 400
    assert client.delete(f"/api/v1/rules/{rule.json()['id']}", headers=admin).status_code == 204
    told = client.post("/api/v1/notification-rules", headers=admin,
                       json={"name": "storage", "hosts": "web*", "contacts": ["admin"], "renotify_s": 3600})
    assert told.status_code == 201 and told.json()["spec"]["contacts"] == ["admin"]
    nobody = client.post("/api/v1/notification-rules", headers=admin, json={"contacts": ["bob"]})
    assert nobody.status_code == 400 and "bob" in nobody.json()["error"]
    typo = client.post("/api/v1/notification-rules", headers=admin, json={"contacts": ["admin"], "hots": "x"})
    assert typo.status_code == 422 and "hots" in typo.json()["error"]
    bad_regex = client.post("/api/v1/notification-rules", headers=admin,
                            json={"contacts": ["admin"], "service_regex": "("})
    assert bad_regex.status_code == 400 and "regular expression" in bad_regex.json()["error"]


def test_discovery_needs_the_daemon_and_says_so(api: tuple[httpx.Client, Store, dict[str, str]]) -> None:
    client, _, tokens = api
    response = client.post("/api/v1/hosts/web1/discovery", headers=auth(tokens["write"]))
    assert response.status_code == 503 and "daemon" in response.json()["error"]


def test_unknown_endpoints_and_methods_answer_json(api: tuple[httpx.Client, Store, dict[str, str]]) -> None:
    client, _, tokens = api
    missing = client.get("/api/v1/nothing", headers=auth(tokens["read"]))
    assert missing.status_code == 404 and "openapi.json" in missing.json()["error"]
    wrong = client.put("/api/v1/hosts", headers=auth(tokens["read"]))
    assert wrong.status_code == 405 and "PUT" in wrong.json()["error"]
    broken = client.post("/api/v1/hosts", headers={**auth(tokens["admin"]), "content-type": "application/json"},
                         content=b"{not json")
    assert broken.status_code == 422 and "not valid" in broken.json()["error"]


def test_the_openapi_document_describes_the_api_and_needs_no_token(api: tuple[httpx.Client, Store, dict[str, str]]
                                                                   ) -> None:
    client, _, _ = api
    document = client.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert {"/api/v1/hosts", "/api/v1/services", "/api/v1/downtimes", "/api/v1/acknowledgements", "/api/v1/results",
            "/api/v1/rules", "/api/v1/notification-rules"} <= set(document["paths"])


def test_prometheus_endpoint_reports_states_and_service_metrics(api: tuple[httpx.Client, Store, dict[str, str]]
                                                                ) -> None:
    client, _, tokens = api
    assert client.get("/metrics").status_code == 401
    text = client.get("/metrics", headers=auth(tokens["read"]), params={"services": True}).text
    assert 'watchkeeper_services{state="CRIT"} 2.0' in text
    assert 'watchkeeper_service_state{host="web1",service="Filesystem /var"} 2.0' in text
    assert 'watchkeeper_service_metric{host="web1",service="Filesystem /var",metric="fs_used_percent"} 95.0' in text
    assert 'service="Log <script>alert(\\"x\\")</script>"' in text  # label values escaped as the format wants


def test_a_huge_body_is_refused_before_it_is_read(api: tuple[httpx.Client, Store, dict[str, str]]) -> None:
    client, store, tokens = api
    huge = {"host": "web1", "service": "Backup", "state": 0, "output": "x" * (2 << 20)}
    response = client.post("/api/v1/results", headers=auth(tokens["write"]), json=huge)
    assert response.status_code == 413 and "send less" in response.json()["error"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit counts what streams in
        yield b'{"host": "web1", "output": "'
        for _ in range(40):
            yield b"y" * 65536
        yield b'"}'

    streamed = client.post("/api/v1/results", headers={**auth(tokens["write"]), "content-type": "application/json"},
                           content=chunks())
    assert streamed.status_code == 413
    assert store.query("SELECT count(*) FROM passive_inbox")[0][0] == 0


def test_a_damaged_store_answers_503_json_and_the_server_keeps_serving(tmp_path: Path) -> None:
    database = tmp_path / "damaged.db"
    database.write_bytes(b"this is not a database" * 100)
    with served(database) as url, httpx.Client(base_url=url, timeout=30) as client:
        for _ in range(2):
            response = client.get("/api/v1/hosts", headers=auth("wk_anything"))
            assert response.status_code == 503
            assert "damaged" in response.json()["error"] or "not a database" in response.json()["error"]


def test_the_patch_plan_is_read_with_a_read_token(api: tuple[httpx.Client, Store, dict[str, str]]) -> None:
    client, store, tokens = api
    now = time.time()
    memory = {"pending.libssl3": ["3.0.15-1~deb12u1", True, now - 4 * 86400], "pending.bash": ["5.2.15", False, now]}
    store.write_cycles([], value_stores=[("web1", "APT updates", json.dumps(memory))])
    store.update_host(HostConfig("web1", "local", options={"labels": {"recovery": "snapshot"}}))
    assert client.get("/api/v1/patch-plan").status_code == 401
    plan = client.get("/api/v1/patch-plan", headers=auth(tokens["read"])).json()
    assert [(d["host"], d["decision"]) for d in plan] == [("web1", "patch now")]
    assert plan[0]["security_updates"] == ["libssl3"] and plan[0]["other_updates"] == ["bash"]
    assert "recovery by snapshot" in plan[0]["reasons"]
