"""SNMP agents for the tests, on free loopback UDP ports, killed at teardown whatever happened.

- `SnmpSim`: snmpsim serving recorded walks of real devices; each recording is one device,
  reached with its file name as the v2c community. `serve(name, text)` replaces a recording
  while it runs (a port going down, a fan failing), which snmpsim notices by the file's mtime.
- `snmpd`: Debian's Net-SNMP agent with a v2c community and a v3 authPriv user, for the
  protocol itself (GETBULK, v3 keys, wrong credentials).
- `sensor_host`: the same agent in a mount namespace whose /sys/class/hwmon holds the chips a
  test gives, so real libsensors and Net-SNMP serve them as LM-SENSORS-MIB (this VM has no
  sensors of its own).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import missing

START_TIMEOUT_S = 30.0
SNMPSIM_AS_IS = """
import sys
import snmpsim.daemon
from snmpsim.commands.responder import main

class AsIs:  # as root, snmpsim insists on switching user, which then cannot read this virtualenv
    def __init__(self, *args, **kwargs): pass
    def __enter__(self): return self
    def __exit__(self, *exc): return False

snmpsim.daemon.PrivilegesOf = AsIs
sys.argv[0] = "snmpsim-command-responder"
sys.exit(main())
"""
COMMUNITY = "wk-lab-community"
V3_USER = "wkmonitor"
V3_AUTH = "auth-secret-4711"
V3_PRIV = "priv-secret-0815"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def answers(port: int, community: str) -> bool:
    """One SNMP GET of sysUpTime.0 with Net-SNMP's snmpget: does the agent answer yet?"""
    done = subprocess.run(["snmpget", "-v2c", "-c", community, "-t", "0.5", "-r", "0", "-On",
                           f"127.0.0.1:{port}", "1.3.6.1.2.1.1.3.0"], capture_output=True, check=False)
    return done.returncode == 0


def walks_to(port: int, community: str, column: str, values: list[str], within_s: float = 30.0) -> None:
    """Wait (bounded) until a walk of `column` gives `values`: agents cache some readings."""
    deadline = time.monotonic() + within_s
    last: list[str] = []
    while time.monotonic() < deadline:
        done = subprocess.run(["snmpwalk", "-v2c", "-c", community, "-t", "1", "-r", "0", "-On", "-Oqv",
                               f"127.0.0.1:{port}", column], capture_output=True, text=True, check=False)
        last = done.stdout.split()
        if last == values:
            return
        time.sleep(0.2)  # polling the agent's cache, bounded; the test asserts only after it answered
    pytest.fail(f"a walk of {column} still gave {last!r} after {within_s:.0f} s, not {values!r}")


@dataclass
class Agent:
    name: str
    command: list[str]
    port: int
    probe_community: str
    log: Path
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        if shutil.which("snmpget") is None:
            missing("Net-SNMP's snmpget (Debian package snmp)")
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT,
                                            env={**os.environ, **self.env})
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and self.process.poll() is None:
            if answers(self.port, self.probe_community):
                return
            time.sleep(0.1)  # polling a starting agent's readiness, not synchronising the test
        self.stop()
        pytest.fail(f"{self.name} did not answer on 127.0.0.1:{self.port} within {START_TIMEOUT_S:.0f} s; "
                    f"its log:\n{self.log.read_text(errors='replace')[-3000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


@dataclass
class SnmpSim:
    """Give it its devices with `serve` before `start` (snmpsim finds recordings only when it
    starts); after that, `serve` replaces a device's recording."""

    agent: Agent
    data: Path

    @property
    def port(self) -> int:
        return self.agent.port

    def start(self) -> None:
        self.agent.start()

    def serve(self, name: str, text: str | bytes) -> None:
        """Serve `text` (snmprec lines) as device `name`, the community to ask it with."""
        path = self.data / f"{name}.snmprec"
        assert self.agent.process is None or path.exists(), "snmpsim finds new recordings only when it starts"
        previous = path.stat().st_mtime if path.exists() else 0.0
        path.write_bytes(text if isinstance(text, bytes) else text.encode("latin-1"))
        # snmpsim re-reads a recording when its whole-second mtime changes, and rebuilds its
        # index when the recording is newer than the index: move the mtime past both.
        stamp = max(previous, time.time()) + 2.0
        os.utime(path, (stamp, stamp))


@pytest.fixture
def snmpsim(tmp_path: Path) -> Iterator[SnmpSim]:
    if importlib.util.find_spec("snmpsim") is None:
        missing("snmpsim (PyPI; scripts/test installs it)")
    root = Path(tempfile.mkdtemp(prefix="watchkeeper-snmpsim-"))
    try:
        data, cache = root / "data", root / "cache"
        data.mkdir()
        cache.mkdir()
        (data / "probe.snmprec").write_text("1.3.6.1.2.1.1.3.0|67|100\n")
        port = free_udp_port()
        command = [sys.executable, "-c", SNMPSIM_AS_IS, f"--data-dir={data}", f"--cache-dir={cache}",
                   "--log-level=error", "--logging-method=stderr", f"--agent-udpv4-endpoint=127.0.0.1:{port}"]
        lab = SnmpSim(Agent("snmpsim", command, port, "probe", tmp_path / "snmpsim.log"), data)
        try:
            yield lab
        finally:
            lab.agent.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def snmpd_agent(tmp_path: Path, wrapper: tuple[str, ...] = ()) -> Agent:
    """Net-SNMP's agent on a free loopback port with the lab's v2c community and v3 user (not started)."""
    binary = shutil.which("snmpd") or "/usr/sbin/snmpd"
    if not Path(binary).exists():
        missing(f"Net-SNMP's agent ({binary}, Debian package snmpd)")
    port = free_udp_port()
    state = tmp_path / "snmpd-state"
    state.mkdir(mode=0o700)
    config = tmp_path / "snmpd.conf"
    config.write_text(f"agentAddress udp:127.0.0.1:{port}\n"
                      f"rocommunity {COMMUNITY} 127.0.0.1\n"
                      f"createUser {V3_USER} SHA \"{V3_AUTH}\" AES \"{V3_PRIV}\"\n"
                      f"rouser {V3_USER} priv\n"
                      "sysName wk-snmpd-lab\nsysLocation the test lab\nsysContact root@localhost\n")
    command = [*wrapper, binary, "-f", "-C", "-c", str(config), "-Lo", "-p", str(tmp_path / "snmpd.pid"),
               "-M", "/dev/null"]
    return Agent("snmpd", command, port, COMMUNITY, tmp_path / "snmpd.log",
                 env={"SNMP_PERSISTENT_DIR": str(state), "MIBS": ""})


@pytest.fixture
def snmpd(tmp_path: Path) -> Iterator[Agent]:
    agent = snmpd_agent(tmp_path)
    agent.start()
    try:
        yield agent
    finally:
        agent.stop()


HWMON_SETUP = """set -e
mount -t tmpfs -o size=1m,mode=0755 watchkeeper-hwmon /sys/class
mkdir /sys/class/hwmon
cp -R "$1"/. /sys/class/hwmon/
shift
exec "$@"
"""


@dataclass
class SensorHost:
    """Net-SNMP's agent in a mount namespace of its own whose /sys/class/hwmon holds the chips a
    test gives (kernel hwmon files: `name`, `temp1_input` in millidegrees, `fan1_input` in rpm,
    `in0_input` in millivolts, `*_label`); the real libsensors reads them and the agent serves
    them as LM-SENSORS-MIB. `write` changes a reading while it runs."""

    agent: Agent

    @property
    def port(self) -> int:
        return self.agent.port

    def write(self, chip: int, attribute: str, value: str) -> None:
        assert self.agent.process is not None
        # the namespace's view of the file system, reached through the agent's own root
        path = Path(f"/proc/{self.agent.process.pid}/root/sys/class/hwmon/hwmon{chip}/{attribute}")
        path.write_text(value + "\n")


def sensor_host(tmp_path: Path, chips: list[dict[str, str]]) -> SensorHost:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        missing("root and unshare(1) (util-linux), to give snmpd a /sys/class/hwmon of its own")
    hwmon = tmp_path / "hwmon"
    for number, chip in enumerate(chips):
        directory = hwmon / f"hwmon{number}"
        directory.mkdir(parents=True)
        for attribute, value in chip.items():
            (directory / attribute).write_text(value + "\n")
    wrapper = ("unshare", "--mount", "--propagation", "private", "sh", "-c", HWMON_SETUP, "hwmon-setup", str(hwmon))
    return SensorHost(snmpd_agent(tmp_path, wrapper))
