"""Livestatus as Thruk, NagVis, Nagstamon and LMD use it: their exact query strings (copied
from their sources into fixtures/clients, provenance beside each file) answer 200 over the unix
socket and TCP with the values Watchkeeper tracks; Thruk's own Perl client library (Debian's
libmonitoring-livestatus-perl) reads the same tables. Filters with hostile regular expressions
cannot hold the server, and every query has a time limit."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import fixtures, missing
from watchkeeper.checkapi import Metric
from watchkeeper.livestatus import answer as answer_module
from watchkeeper.livestatus.answer import answer
from watchkeeper.livestatus.query import LivestatusError, Query, parse_request
from watchkeeper.livestatus.server import LivestatusServer
from watchkeeper.livestatus.snapshot import Snapshot
from watchkeeper.model.active_checks import ActiveCheck
from watchkeeper.model.cycles import HostCycle, Outcome, ServiceSpec
from watchkeeper.model.hosts import HostConfig
from watchkeeper.model.notifications import Acknowledgement, Channel, Contact, Downtime, NotificationRule
from watchkeeper.store.active_tables import ActiveTables
from watchkeeper.store.database import Store
from watchkeeper.store.notify_tables import NotifyTables

CLIENTS = fixtures(__file__) / "clients"
PERL_CLIENT = Path(__file__).parent / "thruk_client.pl"


def requests_of(name: str) -> list[str]:
    return [part + "\n\n" for part in (CLIENTS / name).read_text().split("\n\n") if part.strip()]


@dataclass
class Live:
    store: Store
    server: LivestatusServer
    socket_path: Path
    port: int
    now: float

    def ask(self, request: str, tcp: bool = False) -> tuple[int, str]:
        """One request on a fresh connection; the answer's status code and body (fixed16 or not)."""
        family, address = (socket.AF_INET, ("127.0.0.1", self.port)) if tcp else (socket.AF_UNIX,
                                                                                  str(self.socket_path))
        with socket.socket(family, socket.SOCK_STREAM) as conn:
            conn.settimeout(30)
            conn.connect(address)
            conn.sendall(request.encode())
            conn.shutdown(socket.SHUT_WR)
            data = b"".join(iter(lambda: conn.recv(65536), b""))
        if "ResponseHeader: fixed16" in request:
            return int(data[:3]), data[16:].decode()
        return 200, data.decode()

    def rows(self, request: str, tcp: bool = False) -> list[list[Any]]:
        code, body = self.ask(request, tcp)
        assert code == 200, body
        result: list[list[Any]] = json.loads(body)
        return result


def populate(store: Store) -> float:
    """The store a dashboard would see; returns the time it is as of (the results are minutes old)."""
    now = time.time()
    store.add_host(HostConfig("web1", "local", options={
        "labels": {"hostgroups": "storage,web", "team": "storage"}, "notes_url": "https://wiki.example/web1"}))
    store.add_host(HostConfig("db1", "ssh://root@192.0.2.7",
                              options={"labels": {"hostgroups": "storage", "team": "storage"}}))
    store.add_host(HostConfig("nas1", "none", options={"address": "192.0.2.9", "alias": "basement NAS"}))
    store.accept_services("web1", [ServiceSpec("CPU load", "cpu", ""), ServiceSpec("Disk /", "df", "/")])
    store.accept_services("db1", [ServiceSpec("Memory", "mem", "")])
    active = ActiveTables(store)
    active.add(ActiveCheck("nas1", "Backup", passive=True, freshness_s=86400, groups=("backups",)))
    active.add(ActiveCheck("web1", "HTTP", ("/usr/lib/nagios/plugins/check_http", "-H", "$HOSTADDRESS$"),
                           groups=("backups", "web checks")))
    store.write_cycles([
        HostCycle("web1", now - 600, True, "", [Outcome("CPU load", 0, "load 0.1"), Outcome("Disk /", 0, "50% used")]),
        HostCycle("web1", now - 60, True, "", [
            Outcome("CPU load", 0, "load 0.2", metrics=[Metric("load1", 0.2, (4.0, 8.0))]),
            Outcome("Disk /", 2, "97% used", metrics=[Metric("fs_used_percent", 97.0, (80.0, 90.0))])]),
        HostCycle("db1", now - 60, False, "no route to host", [Outcome("Memory", 3, "stale", stale=True)]),
        HostCycle("nas1", now - 30, True, "", [Outcome("Backup", 0, "backup done")], partial=True),
        HostCycle("web1", now - 20, True, "", [Outcome("HTTP", 1, "slow answer")], partial=True),
    ])
    notify = NotifyTables(store)
    notify.set_channel(Channel("mail", "email", {"host": "localhost", "port": 25, "tls": "none",
                                                "sender": "watchkeeper@localhost"}))
    notify.set_contact(Contact("ops", "ops@example.org", ("mail",)))
    notify.set_contact(Contact("dba", "dba@example.org", ("mail",)))
    notify.add_rule(NotificationRule(name="storage team", hosts="*", labels={"team": "storage"},
                                     contacts=("ops",), period="mon-sun 00:00-24:00", comment="disks and hosts"))
    notify.add_rule(NotificationRule(name="databases", hosts="db*", contacts=("dba", "ops")))
    notify.acknowledge(Acknowledgement("web1", "Disk /", 2, "ops", "new disk ordered", True, None, now - 10))
    notify.add_downtime(Downtime(0, "db1", None, now - 100, now + 3600, "", "UTC", "dba", "patching"))
    return now


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[Live]:
    store = Store(tmp_path / "wk.db")
    now = populate(store)
    server = LivestatusServer(store.path)
    await server.start(tmp_path / "live", ("127.0.0.1", 0))
    yield Live(store, server, tmp_path / "live", server.tcp_port, now)
    await server.close()
    store.close()


@pytest.mark.parametrize("client", sorted(p.name for p in CLIENTS.glob("*.txt")))
async def test_every_query_of_the_client_answers_200_over_unix_socket_and_tcp(live: Live, client: str) -> None:
    for index, request in enumerate(requests_of(client)):
        code, body = await asyncio.to_thread(live.ask, request, index % 2 == 1)
        assert code == 200, f"{request}-> {code} {body}"
        rows = json.loads(body)
        query = parse_request(request)
        assert isinstance(query, Query)
        if query.columns and not query.stats:
            assert all(len(row) == len(query.columns) for row in rows[1 if query.column_headers else 0:]), request


async def test_thruk_sees_status_groups_contacts_comments_and_downtimes(live: Live) -> None:
    thruk = requests_of("thruk_3_provider_livestatus.txt")
    [status] = await asyncio.to_thread(live.rows, thruk[0])
    assert status[:3] == [1, 1, 1] and str(status[18]).startswith("watchkeeper ")
    groups = await asyncio.to_thread(live.rows, thruk[6])
    assert [g[:3] for g in groups] == [["storage", "storage", ["db1", "web1"]], ["web", "web", ["web1"]]]
    servicegroups = await asyncio.to_thread(live.rows, thruk[9])
    assert servicegroups[0][:3] == ["backups", "backups", [["nas1", "Backup"], ["web1", "HTTP"]]]
    # num_services; hard crit, ok, unknown, warn; crit, ok, pending, unknown, warn (Thruk's order)
    assert servicegroups[0][6:16] == [2, 0, 1, 0, 1, 0, 1, 0, 0, 1]
    comments = await asyncio.to_thread(live.rows, thruk[10])
    by_author = {c[0]: c for c in comments}
    assert by_author["ops"][1] == "new disk ordered" and by_author["ops"][3] == 4 and by_author["ops"][-1] == 2
    assert by_author["dba"][1] == "patching" and by_author["dba"][3] == 2 and by_author["dba"][-1] == 1
    [downtime] = await asyncio.to_thread(live.rows, thruk[11])
    assert downtime[0] == "dba" and downtime[5] == "db1" and downtime[-1] == 3700
    contactgroups = await asyncio.to_thread(live.rows, thruk[12])
    assert ["databases", "notification rule 2", ["dba", "ops"]] in contactgroups
    assert ["storage team", "disks and hosts", ["ops"]] in contactgroups
    member_of = await asyncio.to_thread(live.rows, thruk[13])
    assert sorted(member_of) == [["databases"], ["storage team"]]
    contacts = await asyncio.to_thread(live.rows, thruk[14])
    assert ["ops", "ops", "ops@example.org", "", "mon-sun 00:00-24:00", "mon-sun 00:00-24:00"] in contacts
    log = await asyncio.to_thread(live.rows, thruk[16])
    assert any(entry[4:7] == ["web1", "Disk /", "97% used"] and entry[8] == "web1;Disk /;CRITICAL;HARD;1;97% used"
               for entry in log)


async def test_host_and_service_columns_carry_real_values(live: Live) -> None:
    [web1] = await asyncio.to_thread(live.rows, "GET hosts\nColumns: name groups contacts contact_groups notes_url "
                                                "num_services_crit worst_service_state in_notification_period\n"
                                                "Filter: name = web1\nOutputFormat: json\n\n")
    assert web1 == ["web1", ["storage", "web"], ["ops"], ["storage team"], "https://wiki.example/web1", 1, 2, 1]
    rows = await asyncio.to_thread(live.rows, "GET services\nColumns: description perf_data groups acknowledged "
                                              "acknowledgement_type staleness last_time_ok last_state check_command "
                                              "host_scheduled_downtime_depth\nOutputFormat: json\n\n")
    by_name = {row[0]: row for row in rows}
    assert by_name["Disk /"][1:5] == ["fs_used_percent=97;80;90", [], 1, 2]
    assert by_name["CPU load"][1] == "load1=0.2;4;8"
    assert by_name["HTTP"][2] == ["backups", "web checks"]
    assert 0.5 < float(by_name["Disk /"][5]) < 5  # a minute since the result, a minute's interval
    assert abs(int(by_name["Disk /"][6]) - (live.now - 60)) <= 1  # the change away from OK
    assert by_name["Disk /"][7] == 0  # OK before the change
    assert by_name["HTTP"][8] == "/usr/lib/nagios/plugins/check_http -H '$HOSTADDRESS$'"
    assert by_name["Memory"][9] == 1  # db1 is in a downtime
    commands = await asyncio.to_thread(live.rows, "GET commands\nColumns: name line\nOutputFormat: json\n\n")
    assert commands == [["check_http", "/usr/lib/nagios/plugins/check_http"]]
    periods = await asyncio.to_thread(live.rows, "GET timeperiods\nColumns: name in\nOutputFormat: json\n\n")
    assert periods == [["24x7", 1], ["mon-sun 00:00-24:00", 1]]


async def test_nagvis_counts_services_of_a_service_group_and_hosts_of_a_host_group(live: Live) -> None:
    nagvis = requests_of("nagvis_1_9_mklivestatus_backend.txt")
    by_group = {row[0]: row for row in await asyncio.to_thread(live.rows, nagvis[14])}
    assert sorted(by_group) == ["backups", "web checks"]  # HTTP is in both; the filter picks services, not groups
    backups = by_group["backups"]
    assert backups[:2] == ["backups", "backups"]
    counts = backups[2:]
    assert counts[0] == 0 and counts[1] == 1 and counts[4] == 1  # pending; OK; WARNING, not stale
    hostgroups = await asyncio.to_thread(live.rows, nagvis[12])
    storage = next(row for row in hostgroups if row[0] == "storage")
    # unchecked 0; UP normal 1 (web1); DOWN normal 0 and DOWN in downtime 1 (db1, being patched)
    assert (storage[2], storage[3], storage[6], storage[9]) == (0, 1, 0, 1)


def test_thruks_perl_client_reads_the_tables_over_unix_socket_and_tcp(tmp_path: Path) -> None:
    if shutil.which("perl") is None or subprocess.run(
            ["perl", "-MMonitoring::Livestatus", "-e", "1"], capture_output=True).returncode != 0:
        missing("Monitoring::Livestatus, Thruk's Perl client (Debian package libmonitoring-livestatus-perl)")
    statements = tmp_path / "statements"
    statements.write_text("".join(
        request.split("\nOutputFormat:")[0] + "\n\n" for request in requests_of("thruk_3_provider_livestatus.txt")))
    for peer in serving(tmp_path):
        done = subprocess.run(["perl", str(PERL_CLIENT), peer, str(statements)], capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        answers = [json.loads(line) for line in done.stdout.splitlines()]
        assert len(answers) == len(requests_of("thruk_3_provider_livestatus.txt"))
        assert all("rows" in a for a in answers), [a for a in answers if "rows" not in a]
        assert answers[0]["rows"][0]["accept_passive_host_checks"] == 1
        assert {h["name"] for h in answers[1]["rows"]} == {"web1", "db1", "nas1"}
        assert answers[2]["rows"][0]["contacts"] == ["ops"]


def serving(tmp_path: Path) -> Iterator[str]:
    """A Livestatus server in its own thread and loop, for a client that blocks: its unix socket, then TCP."""
    store = Store(tmp_path / "perl.db")
    populate(store)
    loop = asyncio.new_event_loop()
    server = LivestatusServer(store.path)
    loop.run_until_complete(server.start(tmp_path / "perl.live", ("127.0.0.1", 0)))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield str(tmp_path / "perl.live")
        yield f"127.0.0.1:{server.tcp_port}"
    finally:
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()
        store.close()


# ---------------------------------------------------------------------- hostile filters, time limits
async def test_a_backtracking_regex_is_answered_and_a_backreference_refused(live: Live) -> None:
    live.store.write_cycles([HostCycle("web1", live.now, True, "", [Outcome("CPU load", 0, "a" * 30_000 + "b")])])
    rows = await asyncio.to_thread(live.rows, "GET services\nColumns: description\n"
                                              "Filter: plugin_output ~ ^(a|aa)+$\nOutputFormat: json\n\n")
    assert rows == []
    matching = await asyncio.to_thread(live.rows, "GET services\nColumns: description\n"
                                                  "Filter: plugin_output ~ ^(a|aa)+b$\nOutputFormat: json\n\n")
    assert matching == [["CPU load"]]
    code, body = await asyncio.to_thread(live.ask, "GET services\nFilter: plugin_output ~ (a)\\1\n"
                                                   "ResponseHeader: fixed16\n\n")
    assert code == 400 and "RE2: no backreferences or lookaround" in body


def test_a_query_past_its_time_limit_is_stopped_with_452(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(tmp_path / "wk.db")
    populate(store)
    ticks = iter(range(0, 10_000, 5))  # a clock that moves 5 s each time it is read
    monkeypatch.setattr(answer_module, "clock", lambda: float(next(ticks)))
    monkeypatch.setattr(answer_module, "CHECK_EVERY", 1)
    query = parse_request("GET services\nColumns: description\nTimelimit: 3\n")
    assert isinstance(query, Query)
    with pytest.raises(LivestatusError) as stopped:
        answer(query, Snapshot(store))
    assert stopped.value.code == 452 and "time limit of 3 s" in str(stopped.value)
    store.close()
