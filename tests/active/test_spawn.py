"""Running plugins on this machine: real monitoring-plugins, and plugins that misbehave in
every way the daemon must survive."""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import os
import signal
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.active.plugins import plugin
from tests.conftest import dies
from watchkeeper.active import pool as pool_module
from watchkeeper.active.pool import HelperPool
from watchkeeper.active.spawn import run_plugin
from watchkeeper.active.verdict import outcome_of
from watchkeeper.checkapi import State
from watchkeeper.model.cycles import Outcome
from watchkeeper.model.plugin_runs import PluginRun

RUNNERS = ["in this process", "through a helper"]
"""The daemon hands plugins to its helpers (their own epoll loop); `watchkeeper check` and the
SSH fallback run them on an asyncio loop: every behaviour below is asserted for both."""
runner = RUNNERS[0]


@pytest.fixture(params=RUNNERS, autouse=True)
def plugin_runner(request: pytest.FixtureRequest) -> Iterator[None]:
    global runner
    runner = request.param
    yield
    runner = RUNNERS[0]


async def run(argv: list[str], timeout_s: float = 10.0, limit: int = 1024 * 1024) -> PluginRun:
    if runner == RUNNERS[0]:
        return await run_plugin(argv, timeout_s=timeout_s, limit=limit)
    pool = HelperPool(size=1)
    try:
        return await pool.run(argv, timeout_s, limit)
    finally:
        await pool.close()


async def check(argv: list[str], timeout_s: float = 10.0, limit: int = 1024 * 1024) -> Outcome:
    return outcome_of("svc", await run(argv, timeout_s, limit), timeout_s)


def script(tmp_path: Path, body: str, name: str = "plugin") -> str:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return str(path)


@pytest.fixture
def listener() -> Iterator[int]:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield int(server.getsockname()[1])


@pytest.fixture
def web_server(tmp_path: Path) -> Iterator[int]:
    (tmp_path / "index.html").write_text("<html>watchkeeper test page</html>")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(tmp_path), **kwargs)  # type: ignore[arg-type]

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


# ---------------------------------------------------------------------- real plugins
async def test_check_disk_on_root_is_ok_with_a_bytes_metric() -> None:
    outcome = await check([plugin("check_disk"), "-w", "1%", "-c", "1%", "-p", "/"])
    assert outcome.state == State.OK and outcome.summary.startswith("DISK OK")
    assert [m.name for m in outcome.metrics] == ["/_bytes"]


async def test_check_disk_with_impossible_levels_is_crit() -> None:
    outcome = await check([plugin("check_disk"), "-w", "100%", "-c", "100%", "-p", "/"])
    assert outcome.state == State.CRIT and "DISK CRITICAL" in outcome.summary


async def test_check_load_and_check_procs() -> None:
    load = await check([plugin("check_load"), "-w", "0,0,0", "-c", "1000,1000,1000"])
    assert load.state in (State.OK, State.WARN) and {m.name for m in load.metrics} == {"load1", "load5", "load15"}
    procs = await check([plugin("check_procs"), "-w", "1:", "-c", "1:"])
    assert procs.state == State.OK and procs.metrics[0].value >= 1


async def test_check_tcp_against_a_listener_and_a_closed_port(listener: int) -> None:
    up = await check([plugin("check_tcp"), "-H", "127.0.0.1", "-p", str(listener)])
    assert up.state == State.OK and up.metrics[0].name == "time_seconds"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    down = await check([plugin("check_tcp"), "-H", "127.0.0.1", "-p", str(closed)])
    assert down.state == State.CRIT and "refused" in down.summary


async def test_check_http_against_a_local_server(web_server: int) -> None:
    found = await check([plugin("check_http"), "-H", "127.0.0.1", "-p", str(web_server), "-s", "watchkeeper test"])
    assert found.state == State.OK and "HTTP OK" in found.summary
    assert {"time_seconds", "size_bytes"} <= {m.name for m in found.metrics}
    missing_text = await check([plugin("check_http"), "-H", "127.0.0.1", "-p", str(web_server), "-s", "absent"])
    assert missing_text.state == State.CRIT


async def test_arguments_are_never_seen_by_a_shell(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    outcome = await check([plugin("check_dummy"), "1", f"$(touch {marker}); `touch {marker}` | x"])
    assert outcome.state == State.WARN
    assert outcome.summary == f"WARNING: $(touch {marker}); `touch {marker}`"
    assert not marker.exists()


# ---------------------------------------------------------------------- misbehaving plugins
async def test_no_output_is_unknown_with_the_reason_and_stderr(tmp_path: Path) -> None:
    outcome = await check([script(tmp_path, "echo 'cannot read config' >&2; exit 0")])
    assert outcome.state == State.UNKNOWN
    assert outcome.summary == "the plugin printed nothing (exit status 0); stderr: cannot read config"


async def test_exit_255_is_unknown_but_keeps_the_text(tmp_path: Path) -> None:
    outcome = await check([script(tmp_path, "echo 'broken thing'; exit 255")])
    assert outcome.state == State.UNKNOWN
    assert outcome.summary == ("the plugin exited with status 255; only 0-3 (OK, WARN, CRIT, UNKNOWN) are defined: "
                               "broken thing")


async def test_ten_megabytes_of_output_is_cut_at_the_limit_and_the_status_kept(tmp_path: Path) -> None:
    body = "echo 'CRITICAL: flood'; head -c 10485760 /dev/zero | tr '\\0' x; exit 2"
    outcome = await check([script(tmp_path, body)], limit=65536)
    assert outcome.state == State.CRIT  # a CRIT stays CRIT, malformed or not
    assert outcome.summary.startswith("the plugin printed more than 64.00 KiB; the rest was dropped: CRITICAL: flood")
    ok_flood = await check([script(tmp_path, "echo OK; head -c 10485760 /dev/zero; exit 0", "ok")], limit=65536)
    assert ok_flood.state == State.UNKNOWN


async def test_non_utf8_output_is_shown_and_unknown(tmp_path: Path) -> None:
    outcome = await check([script(tmp_path, "printf 'OK: caf\\351\\n'; exit 0")])
    assert outcome.state == State.UNKNOWN
    assert outcome.summary.endswith("(shown as Latin-1); give the plugin a UTF-8 locale or fix it: OK: café")


async def test_a_hung_plugin_is_killed_with_its_children(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    body = f"sleep 300 & echo $! > {pids}; echo $$ >> {pids}; sleep 300"
    outcome = await check([script(tmp_path, body)], timeout_s=1.0)
    assert outcome.state == State.UNKNOWN and "gave no result within 1 s and was killed" in outcome.summary
    for pid in map(int, pids.read_text().split()):
        assert dies(pid), f"process {pid} of the hung plugin is still running"


async def test_a_plugin_that_exits_but_leaves_a_child_holding_stdout_is_cleaned_up(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    outcome = await check([script(tmp_path, f"sleep 300 & echo $! > {pids}; echo 'OK: done'; exit 0")],
                          timeout_s=30.0)
    assert outcome.state == State.OK and outcome.summary == "OK: done"
    assert dies(int(pids.read_text()))


async def test_death_by_signal_is_named(tmp_path: Path) -> None:
    outcome = await check([script(tmp_path, "kill -SEGV $$")])
    assert (outcome.state, outcome.summary) == (State.UNKNOWN, "the plugin was killed by SIGSEGV")


async def test_missing_and_non_executable_plugins(tmp_path: Path) -> None:
    gone = await check(["check_that_does_not_exist"])
    assert gone.state == State.UNKNOWN and gone.summary.startswith("plugin 'check_that_does_not_exist' was not found")
    plain = tmp_path / "plain"
    plain.write_text("echo hi")
    assert (await check([str(plain)])).summary.startswith(f"plugin '{plain}' was not found or is not executable")


async def test_plugins_do_not_inherit_our_open_files(tmp_path: Path) -> None:
    with (tmp_path / "secret-file").open("w"), socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        outcome = await check([script(tmp_path, "echo OK; ls -l /proc/$$/fd/")])
    assert outcome.state == State.OK
    assert "secret-file" not in outcome.details and "socket:" not in outcome.details
    assert "/dev/null" in outcome.details  # stdin


# ---------------------------------------------------------------------- the daemon's helper pool
async def test_the_helper_pool_runs_plugins_byte_for_byte_in_parallel(tmp_path: Path) -> None:
    pool = HelperPool(size=2)
    try:
        runs = await asyncio.gather(*(pool.run([plugin("check_dummy"), str(i % 4), f"run {i}"], 10.0, 65536)
                                      for i in range(50)))
        binary = await pool.run([script(tmp_path, "printf 'OK: \\000\\377\\n'; exit 0")], 10.0, 65536)
    finally:
        await pool.close()
    assert [run.exit_code for run in runs] == [i % 4 for i in range(50)]
    assert runs[7].stdout.endswith(b"run 7\n")
    assert binary.stdout == b"OK: \x00\xff\n"
    assert len({h.process.pid for h in pool.helpers}) == 0  # closed


async def test_a_helper_that_dies_fails_only_its_plugins_and_is_replaced(tmp_path: Path) -> None:
    pool = HelperPool(size=1)
    try:
        await pool.start()
        hung = asyncio.create_task(pool.run([script(tmp_path, f"echo $$ > {tmp_path}/pid; exec sleep 300")],
                                            60.0, 65536))
        await asyncio.sleep(0)  # one turn of the loop: the request is sent and waits for its answer
        assert pool.helpers[0].pending
        pool.helpers[0].process.kill()
        lost = await hung
        after = await pool.run([plugin("check_dummy"), "0", "again"], 10.0, 65536)
    finally:
        await pool.close()
    with contextlib.suppress(ProcessLookupError, FileNotFoundError):  # the orphaned plugin, its helper gone
        os.kill(int((tmp_path / "pid").read_text()), 9)
    assert lost.error.startswith("the plugin helper process ended (status -9) while the plugin ran")
    assert outcome_of("svc", lost, 60.0).state == State.UNKNOWN
    assert after.stdout == b"OK: again\n"


async def test_a_stuck_helper_is_killed_and_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool_module, "HELPER_GRACE_S", 0.2)
    pool = HelperPool(size=1)
    try:
        await pool.start()
        stuck = pool.helpers[0].process
        os.kill(stuck.pid, signal.SIGSTOP)  # alive, but answers nothing
        lost = await pool.run([plugin("check_dummy"), "0", "never"], 0.1, 65536)
        stuck.wait(10.0)
        after = await pool.run([plugin("check_dummy"), "0", "again"], 10.0, 65536)
    finally:
        await pool.close()
    assert lost.timed_out and lost.error == "the plugin helper gave no answer; it is restarted"
    assert stuck.returncode == -signal.SIGKILL
    assert after.stdout == b"OK: again\n"


async def test_a_descendant_in_a_new_session_is_killed_and_the_run_ends(tmp_path: Path) -> None:
    """`setsid` takes a helper out of the plugin's process group; it holds stdout open."""
    pids = tmp_path / "pids"
    body = (f"setsid sh -c 'echo $$ > {pids}; exec sleep 300' & until [ -s {pids} ]; do :; done; "
            "echo 'OK: started the helper'; exit 0")  # exits once the helper has left its group
    before = len(os.listdir("/proc/self/fd"))
    result = await run([script(tmp_path, body)], timeout_s=30.0)
    assert (result.exit_code, result.stdout, result.escaped) == (0, b"OK: started the helper\n", 1)
    assert dies(int(pids.read_text()))
    assert len(os.listdir("/proc/self/fd")) == before  # our ends of its pipes are closed
    outcome = outcome_of("svc", result, 30.0)
    assert outcome.state == State.OK and "left running outside its process group" in outcome.details


async def test_a_hung_plugin_with_an_escaped_descendant_times_out_and_both_die(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    body = (f"setsid sh -c 'echo $$ >> {pids}; exec sleep 300' & until [ -s {pids} ]; do :; done; "
            f"echo $$ >> {pids}; exec sleep 300")
    before = len(os.listdir("/proc/self/fd"))
    outcome = await check([script(tmp_path, body)], timeout_s=1.0)
    assert outcome.state == State.UNKNOWN
    assert "and 1 processes it had started outside its group" in outcome.summary
    for pid in map(int, pids.read_text().split()):
        assert dies(pid), f"process {pid} is still running"
    assert len(os.listdir("/proc/self/fd")) == before
