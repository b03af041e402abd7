"""The command line, in process; and the daemon as a real process that is killed with -9."""

from __future__ import annotations

import os
import select
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from tests.conftest import REPO, agent_output, dies
from watchkeeper.cli.main import main
from watchkeeper.engine.discovery import discover_in_output
from watchkeeper.model.cycles import HostCycle, Outcome
from watchkeeper.store.database import Store

REAL = agent_output("checkmk-1.4.0i2-debian12.txt")


def wk(home: str, *args: str) -> int:
    return main(["--home", home, *args])


def test_init_adds_this_machine_with_its_services(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = str(tmp_path / "h")
    assert main(["--home", home, "init"]) == 0
    assert "Added this machine as host" in capsys.readouterr().out
    assert wk(home, "check", "--verbose", os.uname().nodename.split(".")[0]) in (0, 1)
    assert "Filesystem /" in capsys.readouterr().out
    assert main(["--home", home, "init"]) == 0  # again: nothing added twice
    assert "Added" not in capsys.readouterr().out


def test_commands_without_a_store_say_to_run_init(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--home", str(tmp_path / "none"), "status"]) == 2
    assert "run `watchkeeper init` first" in capsys.readouterr().err


def test_host_names_with_shell_metacharacters_are_refused(home: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert wk(home, "host", "add", "web1;reboot", "local") == 2
    assert "host name 'web1;reboot' is not valid" in capsys.readouterr().err


def test_bad_addresses_say_which_forms_work(home: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert wk(home, "host", "add", "web1", "gopher://web1") == 2
    assert "use local, ssh://user@host:port" in capsys.readouterr().err


def test_check_from_file_discovers_checks_and_exits_by_the_worst_state(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--from-file", str(REAL)]) == 0
    assert "Memory" in capsys.readouterr().out
    unsafe = tmp_path / "unsafe.txt"
    mounts = (REPO / "tests/plugins/mounts/fixtures/proc_mounts/ext4_loop_barrier0_data_writeback.txt").read_bytes()
    unsafe.write_bytes(REAL.read_bytes() + b"<<<mounts>>>\n" + mounts)
    assert main(["check", "--from-file", str(unsafe)]) == 1
    assert "unsafe option nobarrier on /mnt/wbtest" in capsys.readouterr().out


def test_check_of_an_unreachable_host_is_unknown_with_the_reason(
        home: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert wk(home, "host", "add", "gone", f"file://{tmp_path / 'missing'}") == 0
    capsys.readouterr()
    assert wk(home, "check", "gone") == 2
    out = capsys.readouterr().out
    assert "cannot read the saved agent output" in out


def test_discovery_adds_new_keeps_vanished_and_accepts_changes_only_when_asked(
        home: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "web1.txt"
    lsblk = (REPO / "tests/plugins/blockdev/fixtures/lsblk_json/debian12_vm.txt").read_bytes()
    output.write_bytes(REAL.read_bytes() + b"<<<lsblk:sep(0)>>>\n" + lsblk)
    assert wk(home, "host", "add", "web1", f"file://{output}") == 0
    capsys.readouterr()
    output.write_bytes(REAL.read_bytes().replace(b"<<<mounts>>>\n/dev/vda / ext4",
                                                 b"<<<mounts>>>\n/dev/vdb /srv xfs rw 0 0\n/dev/vda / ext4")
                       + b"<<<lsblk:sep(0)>>>\n" + lsblk.replace(b'"size": 274877906944', b'"size": 1000'))
    assert wk(home, "discover", "web1") == 0
    out = capsys.readouterr().out
    assert "+ Mount options /srv" in out
    assert "~ Block device vda: was {'size_bytes': 274877906944}, now {'size_bytes': 1000}: not accepted" in out
    assert wk(home, "check", "web1") == 2  # the changed disk is CRIT until accepted
    assert "now points at a different device" in capsys.readouterr().out
    assert wk(home, "discover", "web1", "--accept-changed") == 0
    capsys.readouterr()
    assert wk(home, "check", "web1") == 0
    output.write_bytes(REAL.read_bytes())
    assert wk(home, "discover", "web1") == 0
    assert "- Block device vda: kept" in capsys.readouterr().out
    assert wk(home, "discover", "web1", "--remove-vanished") == 0
    capsys.readouterr()
    assert wk(home, "status", "web1") == 0
    assert "Block device" not in capsys.readouterr().out


def test_rules_are_validated_and_change_the_levels(home: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert wk(home, "host", "add", "web1", f"file://{REAL}") == 0
    assert wk(home, "rule", "add", "mem", "used_percentage=[1,2]") == 2
    assert "unknown parameter 'used_percentage'" in capsys.readouterr().err
    assert wk(home, "rule", "add", "mem", "used_percent=[1,2]", "--host", "web*") == 0
    capsys.readouterr()
    assert wk(home, "check", "web1") == 2
    assert "RAM used: 4.69% (warn/crit at 1.00%/2.00%)" in capsys.readouterr().out


class Daemon:
    """`watchkeeper run` as a real process; its log lines are read as they come."""

    def __init__(self, home: str, listen: str = "off", options: Sequence[str] = ()) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "watchkeeper.cli.main", "--home", home, "run", "--log-level", "debug",
             "--listen", listen, *options],
            stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self.changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()

    def wait_for(self, text: str, count: int = 1, timeout: float = 60.0) -> None:
        with self.changed:
            if not self.changed.wait_for(lambda: sum(text in line for line in self.lines) >= count, timeout):
                raise AssertionError(f"the daemon did not log {text!r} {count} times:\n" + "".join(self.lines[-30:]))

    def finish(self) -> int:
        code = self.process.wait(timeout=60)
        assert self.process.stderr is not None
        self.process.stderr.close()
        return code


@pytest.fixture
def busy_home(home: str) -> Iterator[str]:
    for index in range(20):
        assert wk(home, "host", "add", f"web{index:02d}", f"file://{REAL}", "--interval", "1", "--no-discover") == 0
    yield home


@pytest.mark.slow
def test_kill_9_during_a_run_loses_at_most_the_cycle_in_flight(busy_home: str) -> None:
    database = Path(busy_home) / "watchkeeper.db"
    daemon = Daemon(busy_home)
    daemon.wait_for("stored", count=4)
    daemon.process.send_signal(signal.SIGKILL)
    assert daemon.finish() == -signal.SIGKILL

    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        checked = db.execute("SELECT count(*) FROM services WHERE last_check IS NOT NULL").fetchone()[0]
        history = db.execute("SELECT count(*) FROM state_history").fetchone()[0]
        stores = db.execute("SELECT count(*) FROM value_store").fetchone()[0]
    per_host = len(discover_in_output(REAL.read_bytes())) + 2  # the checks, Agent, Service discovery
    assert checked == 20 * per_host and history > 0 and stores > 0

    restarted = Daemon(busy_home)
    restarted.wait_for("stored", count=2)
    restarted.process.send_signal(signal.SIGTERM)
    assert restarted.finish() == 0
    assert any("stopped cleanly" in line for line in restarted.lines)
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM state_history").fetchone()[0] >= history
        rates = db.execute("SELECT count(*) FROM services WHERE name = 'CPU utilization' AND state = -1")
        assert rates.fetchone()[0] == 20  # counters of a replayed output never advance: still waiting


@pytest.mark.slow
def test_sigterm_with_hung_agents_and_plugins_stops_at_once_and_leaves_nothing(home: str, tmp_path: Path) -> None:
    started = tmp_path / "started"
    os.mkfifo(started)
    reader = os.open(started, os.O_RDWR | os.O_NONBLOCK)  # read-write: the pipe never reads as closed
    hung = tmp_path / "hung"
    hung.write_text(f"#!/bin/sh\necho $$ > {started}\nexec sleep 600\n")
    hung.chmod(0o755)
    for index in range(2):
        assert wk(home, "host", "add", f"stuck{index}", "local", "--no-discover", "--interval", "5",
                  "--option", f'agent_command=["{hung}"]', "--option", "timeout_s=300") == 0
        assert wk(home, "service", "add", f"stuck{index}", "Hung plugin", "--interval", "5s", "--timeout", "300s",
                  "--", str(hung)) == 0
    daemon = Daemon(home)
    pids: list[int] = []
    try:
        while len(pids) < 4:  # two agents and two plugins have started and hang
            assert select.select([reader], [], [], 60)[0], "the hung agents and plugins did not start"
            pids += [int(word) for word in os.read(reader, 4096).split()]
    finally:
        os.close(reader)
    daemon.process.send_signal(signal.SIGTERM)
    assert daemon.finish() == 0
    log = "".join(daemon.lines)
    assert "stopping 4 checks still running (hung agents or plugins)" in log
    assert "Traceback" not in log and "Event loop is closed" not in log
    for pid in pids:
        assert dies(pid), f"process {pid} outlived the daemon"


def test_host_edit_changes_what_it_is_told_and_refuses_a_bad_address(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    home = str(tmp_path / "home")
    assert main(["--home", home, "init", "--no-local"]) == 0
    assert wk(home, "host", "add", "web1", f"file://{REAL}", "--option", "timeout_s=5") == 0
    capsys.readouterr()
    assert wk(home, "host", "edit", "web1", "--interval", "30", "--option", "max_output_bytes=100000",
              "--unset", "timeout_s") == 0
    out = capsys.readouterr().out
    assert "interval 60s -> 30s" in out and "address" not in out
    config = Store(Path(home) / "watchkeeper.db").host("web1").config
    assert config.interval_s == 30 and config.options == {"max_output_bytes": 100000}
    assert wk(home, "host", "edit", "web1", "--uri", "ftp://web1") == 2
    assert Store(Path(home) / "watchkeeper.db").host("web1").config.uri == f"file://{REAL}"


def test_host_remove_keeps_the_history_unless_purged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = str(tmp_path / "home")
    assert main(["--home", home, "init", "--no-local"]) == 0
    store = Store(Path(home) / "watchkeeper.db")
    for name in ("web1", "web2"):
        assert wk(home, "host", "add", name, f"file://{REAL}") == 0
        store.write_cycles([HostCycle(name, 1000.0, True, "", [Outcome("Filesystem /", 2, "full")])])
    kept = store.query("SELECT count(*) FROM state_history WHERE host = 'web1'")[0][0]
    assert kept > 0
    assert wk(home, "host", "remove", "web1") == 0
    assert "its state history and metrics are kept" in capsys.readouterr().out
    assert store.query("SELECT count(*) FROM state_history WHERE host = 'web1'")[0][0] == kept
    assert wk(home, "host", "remove", "web2", "--purge") == 0
    assert store.query("SELECT count(*) FROM state_history WHERE host = 'web2'")[0][0] == 0
    assert [row.config.name for row in store.hosts()] == []


@pytest.mark.slow
def test_check_now_asks_the_running_daemon_for_a_host_and_for_an_agent_service(
        home: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert wk(home, "host", "add", "web1", f"file://{REAL}", "--interval", "3600") == 0
    assert wk(home, "check-now", "web1") == 2  # no daemon yet: said, not silently lost
    assert "the daemon does not answer" in capsys.readouterr().err
    daemon = Daemon(home)
    try:
        daemon.wait_for("stored 1 host cycles", count=1)  # the first cycle, at start; the next in an hour
        assert wk(home, "check-now", "web1", "Memory") == 0
        assert "Asked the daemon to check web1 Memory now" in capsys.readouterr().out
        daemon.wait_for("stored 1 host cycles", count=2)
        assert wk(home, "check-now", "web1") == 0
        daemon.wait_for("stored 1 host cycles", count=3)
        assert wk(home, "check-now", "web1", "Memroy") == 2
        assert "web1 has no service 'Memroy'" in capsys.readouterr().err
    finally:
        daemon.process.send_signal(signal.SIGTERM)
        assert daemon.finish() == 0
