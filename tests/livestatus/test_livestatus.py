"""The Livestatus endpoint against two Livestatus clients written by others (python-mk-livestatus
over the unix socket and TCP, pylivestatus over TCP) and against the raw protocol: the answers
must agree with the store."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from mk_livestatus import Socket

from watchkeeper.livestatus.server import LivestatusServer
from watchkeeper.livestatus.tables import ROWS, TABLES
from watchkeeper.model.active_checks import ActiveCheck
from watchkeeper.model.cycles import HostCycle, Outcome, ServiceSpec
from watchkeeper.model.health import Health
from watchkeeper.model.hosts import HostConfig
from watchkeeper.store.active_tables import ActiveTables
from watchkeeper.store.database import Store
from watchkeeper.store.notify_tables import NotifyTables

with warnings.catch_warnings():  # pylivestatus is built on telnetlib, deprecated since Python 3.11
    warnings.simplefilter("ignore", DeprecationWarning)
    from pyLivestatus import Livestatus


@dataclass
class Live:
    store: Store
    server: LivestatusServer
    socket_path: Path
    port: int
    rescheduled: list[tuple[str, str | None, float]] = field(default_factory=list)

    def raw(self, request: str) -> bytes:
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as conn:
            conn.sendall(request.encode())
            conn.shutdown(socket.SHUT_WR)
            return b"".join(iter(lambda: conn.recv(65536), b""))

    def json(self, request: str) -> list[list[object]]:
        data: list[list[object]] = json.loads(self.raw(request + "OutputFormat: json\n\n"))
        return data


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[Live]:
    store = Store(tmp_path / "wk.db")
    now = time.time()
    store.add_host(HostConfig("web1", "local", options={"labels": {"role": "web"}}))
    store.add_host(HostConfig("db1", "ssh://root@192.0.2.7"))
    store.add_host(HostConfig("nas1", "none", options={"address": "192.0.2.9", "alias": "<b>basement</b>"}))
    store.accept_services("web1", [ServiceSpec("CPU load", "cpu", ""), ServiceSpec("Disk /", "df", "/"),
                                   ServiceSpec("Memory", "mem", "")])
    store.accept_services("db1", [ServiceSpec("Memory", "mem", "")])
    ActiveTables(store).add(ActiveCheck("nas1", "Backup", passive=True, freshness_s=86400))
    store.write_cycles([
        HostCycle("web1", now - 60, True, "", [Outcome("CPU load", 0, "load 0.2"), Outcome("Disk /", 2, "97% used"),
                                               Outcome("Memory", 1, "RAM 85% used")]),
        HostCycle("db1", now - 60, False, "no route to host", [Outcome("Memory", 3, "stale", stale=True)]),
        HostCycle("nas1", now - 30, True, "", [Outcome("Backup", 0, "backup done")], partial=True),
    ])
    rescheduled: list[tuple[str, str | None, float]] = []

    def reschedule(host: str, service: str | None, when: float) -> bool:
        rescheduled.append((host, service, when))
        return host == "web1"

    server = LivestatusServer(store.path, reschedule)
    await server.start(tmp_path / "live", ("127.0.0.1", 0))
    yield Live(store, server, tmp_path / "live", server.tcp_port, rescheduled)
    await server.close()
    store.close()


def store_services(store: Store, state: int | None = None) -> set[tuple[str, str]]:
    return {(s.host, s.name) for s in store.services() if state is None or s.state == state}


# ---------------------------------------------------------------------- clients written by others
async def test_mk_livestatus_over_unix_socket_and_tcp_sees_the_store(live: Live) -> None:
    for peer in (str(live.socket_path), ("127.0.0.1", live.port)):
        client = Socket(peer)
        hosts = await asyncio.to_thread(client.hosts.columns("name", "state", "address").call)
        assert sorted((h["name"], h["state"], h["address"]) for h in hosts) == [
            ("db1", 1, "192.0.2.7"), ("nas1", 0, "192.0.2.9"), ("web1", 0, "127.0.0.1")]
        services = await asyncio.to_thread(client.services.columns("host_name", "description").call)
        assert {(s["host_name"], s["description"]) for s in services} == store_services(live.store)
        crit = await asyncio.to_thread(client.services.columns("host_name", "description")
                                       .filter("state = 2").call)
        assert {(s["host_name"], s["description"]) for s in crit} == store_services(live.store, 2)
        regex = await asyncio.to_thread(client.services.columns("description").filter("description ~~ ^mem").call)
        assert sorted(s["description"] for s in regex) == ["Memory", "Memory"]


async def test_pylivestatus_reads_hosts_services_and_schedules_a_downtime(live: Live) -> None:
    client = Livestatus("127.0.0.1", live.port)
    hosts = await asyncio.to_thread(client.get_hosts)
    assert sorted(h["name"] for h in hosts) == [b"db1", b"nas1", b"web1"]
    web1 = await asyncio.to_thread(client.get_host, "web1")
    assert (web1["num_services"], web1["num_services_crit"], web1["custom_variables"]) == (b"5", b"1", {"role": "web"})
    services = await asyncio.to_thread(client.get_services, "web1")
    by_name = {s["service_description"]: s for s in services}
    assert by_name[b"Disk /"]["plugin_output"] == b"97% used" and by_name[b"Disk /"]["current_state"] == b"2"
    everything = await asyncio.to_thread(client.get_all_services)
    assert len(everything) == len(live.store.services())
    start = int(time.time())
    await asyncio.to_thread(client.set_service_downtime, "web1", "Disk /", "ops", "new disk", start, start + 3600)
    await asyncio.wait_for(live.server.commands_handled(1), 30)
    downtimes = await asyncio.to_thread(client.get_downtime)
    assert [(d["host_name"], d["service_description"], d["author"], d["comment"]) for d in downtimes] == [
        (b"web1", b"Disk /", b"ops", b"new disk")]
    [stored] = NotifyTables(live.store).downtimes()
    assert (stored.start, stored.end) == (start, start + 3600)
    await asyncio.to_thread(client.del_downtime, downtimes[0]["id"].decode())
    await asyncio.wait_for(live.server.commands_handled(2), 30)
    assert NotifyTables(live.store).downtimes() == []


# ---------------------------------------------------------------------- the protocol itself
async def test_filters_with_and_or_negate(live: Live) -> None:
    rows = await asyncio.to_thread(live.json, "GET services\nColumns: host_name description\n"
                                   "Filter: state = 1\nFilter: state = 2\nOr: 2\nFilter: host_name = web1\nAnd: 2\n")
    assert sorted(map(tuple, rows)) == [("web1", "Disk /"), ("web1", "Memory")]
    negated = await asyncio.to_thread(live.json, "GET hosts\nColumns: name\nFilter: name ~ ^w\nNegate:\n")
    assert sorted(str(r[0]) for r in negated) == ["db1", "nas1"]
    listed = await asyncio.to_thread(live.json, "GET hosts\nColumns: name\nFilter: services >= Backup\n")
    assert listed == [["nas1"]]
    labelled = await asyncio.to_thread(live.json, "GET hosts\nColumns: name\nFilter: custom_variables = role web\n")
    assert labelled == [["web1"]]
    newer = await asyncio.to_thread(live.json, f"GET services\nColumns: description\n"
                                    f"Filter: last_check >= {int(time.time()) - 45}\n")
    assert newer == [["Backup"]]


async def test_stats_count_and_aggregate_like_the_store(live: Live) -> None:
    counts = await asyncio.to_thread(live.json, "GET services\nStats: state = 0\nStats: state = 1\n"
                                     "Stats: state = 2\nStats: state = 3\n")
    store = [sum(1 for s in live.store.services() if max(s.state, 0) == n) for n in range(4)]
    assert counts == [store]
    grouped = await asyncio.to_thread(live.json, "GET services\nColumns: host_name\nStats: state != 0\n"
                                      "Stats: max state\nStats: sum state\nStats: avg state\n")
    assert sorted(grouped) == [["db1", 1, 3, 3, 1], ["nas1", 0, 0, 0, 0], ["web1", 2, 2, 3, 0.6]]
    combined = await asyncio.to_thread(
        live.json, "GET services\nStats: state = 1\nStats: state = 2\nStatsOr: 2\n"
        "Stats: host_name = web1\nStats: state = 0\nStatsAnd: 2\nStats: min last_check\n")
    assert combined[0][:2] == [2, 3]


async def test_formats_limit_headers_and_fixed16_keepalive(live: Live) -> None:
    csv = await asyncio.to_thread(live.raw, "GET hosts\nColumns: name services\nFilter: name = web1\n\n")
    assert csv.decode() == "web1;Agent,CPU load,Disk /,Memory,Service discovery\n"
    python = await asyncio.to_thread(live.raw, "GET hosts\nColumns: name\nLimit: 1\nOutputFormat: python\n"
                                     "ColumnHeaders: on\n\n")
    assert python.decode() == "[['name'], ['db1']]\n"

    def two_on_one_connection() -> list[bytes]:
        answers = []
        with socket.socket(socket.AF_UNIX) as conn:
            conn.connect(str(live.socket_path))
            reader = conn.makefile("rb")
            for table in ("status", "nosuchtable"):
                conn.sendall(f"GET {table}\nColumns: num_hosts\nResponseHeader: fixed16\nKeepAlive: on\n\n".encode())
                header = reader.read(16)
                answers.append(header + reader.read(int(header[4:15])))
        return answers
    status, missing = await asyncio.to_thread(two_on_one_connection)
    assert status == b"200           2\n3\n"
    assert missing.startswith(b"404 ") and b"no such table 'nosuchtable'" in missing


@pytest.mark.parametrize(("request_text", "code", "message"), [
    ("GET hosts\nColumns: name nosuch\n", 450, "Table 'hosts' has no column 'nosuch'"),
    ("GET hosts\nFilter: name === x\n", 400, "invalid filter operator '==='"),
    ("GET hosts\nFilter: state = many\n", 400, "'state' is a number column; 'many' is not a number"),
    ("GET hosts\nFilter: name ~ (unclosed\n", 400, "invalid regular expression '(unclosed'"),
    ("GET hosts\nAnd: 3\n", 400, "And: 3 combines more than the 0 filters before it"),
    ("GET hosts\nStats: sum name\n", 400, "Stats: sum needs a number column; 'name' is a string"),
    ("GET hosts\nBogus: 1\n", 400, "undefined request header 'Bogus'"),
    ("PUT hosts\n", 400, "invalid request method"),
    ("\x00\xff\x01garbage\n", 400, "invalid request method"),
])
async def test_bad_requests_get_livestatus_error_codes(live: Live, request_text: str, code: int, message: str) -> None:
    answer = await asyncio.to_thread(live.raw, request_text + "ResponseHeader: fixed16\n\n")
    assert answer[:3] == str(code).encode() and message in answer.decode("utf-8", "replace")


async def test_columns_and_log_tables(live: Live) -> None:
    columns = await asyncio.to_thread(live.json, "GET columns\nColumns: name type\nFilter: table = hosts\n")
    assert ["num_services_crit", "int"] in columns and ["services", "list"] in columns
    log = await asyncio.to_thread(live.json, "GET log\nColumns: host_name service_description state message\n"
                                  "Filter: state = 2\nFilter: class = 1\n")
    assert ["web1", "Disk /", 2, log[0][3]] in log
    assert str(log[0][3]).endswith("SERVICE ALERT: web1;Disk /;CRITICAL;HARD;1;97% used")  # the Nagios log line


async def test_commands_acknowledge_submit_and_reschedule(live: Live) -> None:
    now = int(time.time())
    commands = [f"COMMAND [{now}] ACKNOWLEDGE_SVC_PROBLEM;web1;Disk /;2;1;1;ops;ordering a disk; soon",
                f"COMMAND [{now}] PROCESS_SERVICE_CHECK_RESULT;nas1;Backup;2;backup failed|t=5s",
                f"COMMAND [{now}] SCHEDULE_FORCED_SVC_CHECK;web1;Disk /;{now}",
                f"COMMAND [{now}] SCHEDULE_FORCED_SVC_CHECK;db1;Memory;{now}",
                f"COMMAND [{now}] ACKNOWLEDGE_SVC_PROBLEM;web1;CPU load;2;1;1;ops;it is OK",
                f"COMMAND [{now}] NO_SUCH_COMMAND;x"]
    for command in commands:
        assert await asyncio.to_thread(live.raw, command + "\n\n") == b""
    await asyncio.wait_for(live.server.commands_handled(len(commands)), 30)
    acked = await asyncio.to_thread(live.json, "GET services\nColumns: description\nFilter: acknowledged = 1\n")
    assert acked == [["Disk /"]]
    [ack] = NotifyTables(live.store).acknowledgements().values()
    assert (ack.comment, ack.sticky, ack.author) == ("ordering a disk; soon", True, "ops")
    [result] = ActiveTables(live.store).take_inbox()
    assert (result.host, result.service, result.state, result.output) == ("nas1", "Backup", 2, "backup failed|t=5s")
    assert live.rescheduled == [("web1", "Disk /", now), ("db1", "Memory", now)]


async def test_a_huge_request_is_cut_off_without_harm(live: Live) -> None:
    def flood() -> bytes:
        with socket.create_connection(("127.0.0.1", live.port), timeout=30) as conn:
            try:
                conn.sendall(b"GET hosts\n" + b"Filter: name = x\n" * 200_000)
            except (BrokenPipeError, ConnectionResetError):
                pass
            try:
                return conn.recv(100)
            except ConnectionResetError:
                return b""
    assert await asyncio.to_thread(flood) == b""
    assert await asyncio.to_thread(live.json, "GET status\nColumns: num_hosts\n") == [[3]]


def test_every_table_has_its_rows() -> None:
    assert set(ROWS) == set(TABLES)


async def test_status_shows_the_daemons_counters_read_only_for_that_table(tmp_path: Path) -> None:
    store = Store(tmp_path / "wk.db")
    store.add_host(HostConfig("web1", "local"))
    asked: list[int] = []

    def health() -> Health:
        asked.append(1)
        return Health(hosts=1, active_checks=0, cycles=7, services_checked=91, fetch_errors=0, plugins_run=0,
                      unwritten_cycles=0, start_delays=(0.5, 1.5))

    server = LivestatusServer(store.path, health=health)
    await server.start(tmp_path / "live", ("127.0.0.1", 0))
    try:
        live = Live(store, server, tmp_path / "live", server.tcp_port)
        assert await asyncio.to_thread(live.json, "GET hosts\nColumns: name\n") == [["web1"]]
        assert asked == []
        assert await asyncio.to_thread(live.json, "GET status\nColumns: host_checks service_checks\n") == [[7, 91]]
        assert asked == [1]
    finally:
        await server.close()
        store.close()
