"""A real Ceph cluster on this machine, for tests: one mon, one mgr and three or four BlueStore
OSDs on sparse files, cephx on, everything under one temporary directory and on loopback, from
Debian's `ceph-mon ceph-mgr ceph-osd ceph-common` (16.2, Pacific).

    with CephLab.start(osds=3) as lab:
        lab.ceph("osd", "pool", "create", "rbd", "8")
        lab.stop_osd(2)
        lab.json("status")

Facts this rests on (measured on this machine kind, Debian 12, 2 vCPU, no systemd): about 23 s
from an empty directory to HEALTH_OK with all PGs active+clean; ~0.5 GiB of memory idle. The
mon listens on two free loopback ports (msgr v2 and v1); `osd crush chooseleaf type = 0` puts
three copies on three OSDs of one host; an OSD stopped with SIGTERM is down within a second
and out after `mon osd down out interval` (30 s here). Daemons run in the foreground (`-f`)
as children of the test, each in its own session, and are stopped OSDs → mgr → mon; teardown
kills whatever is left and removes the directory, also when the test failed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.sshd import free_port

PACKAGES = ("ceph-mon", "ceph-mgr", "ceph-osd", "ceph-common")
BINARIES = ("ceph", "ceph-mon", "ceph-mgr", "ceph-osd", "ceph-authtool", "monmaptool")
CALL_TIMEOUT_S = 30


def unavailable() -> str | None:
    """What is missing to run the lab, or None."""
    missing = [name for name in BINARIES if shutil.which(name) is None]
    if missing:
        return f"Ceph ({', '.join(missing)} not found; Debian packages {' '.join(PACKAGES)})"
    if os.geteuid() != 0:
        return "Ceph lab (its daemons run as root here)"
    return None


class CephLab:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.fsid = str(uuid.uuid4())
        self.conf = directory / "ceph.conf"
        self.admin_keyring = directory / "ceph.client.admin.keyring"
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.osd_ids: list[int] = []
        self.prometheus_port = 0

    # ------------------------------------------------------------------ life
    @classmethod
    def start(cls, osds: int = 3, extra: dict[str, str] | None = None) -> CephLab:
        lab = cls(Path(tempfile.mkdtemp(prefix="watchkeeper-ceph-lab-")))
        try:
            lab._write_conf(extra or {})
            lab._start_mon()
            lab._start_mgr()
            for _ in range(osds):
                lab.add_osd()
            lab.wait("every OSD up and in", lambda: lab.osds_up_in() == (osds, osds), 120)
        except BaseException:
            lab.close()
            raise
        return lab

    def __enter__(self) -> CephLab:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        for name in sorted(self.processes, key=lambda n: (not n.startswith("osd"), n.startswith("mon"))):
            self._stop(name)
        shutil.rmtree(self.dir, ignore_errors=True)

    # ------------------------------------------------------------------ client side
    @property
    def client_args(self) -> list[str]:
        """What the agent's `ceph` needs to reach this cluster (its `ceph.args` configuration)."""
        return ["--conf", str(self.conf), "--name", "client.admin", "--keyring", str(self.admin_keyring)]

    def ceph(self, *args: str, timeout_s: float = CALL_TIMEOUT_S) -> str:
        done = subprocess.run(["ceph", *self.client_args, "--connect-timeout", "10", *args],
                              capture_output=True, text=True, timeout=timeout_s)
        if done.returncode != 0:
            raise RuntimeError(f"ceph {' '.join(args)}: exit {done.returncode}: {done.stderr.strip()[-800:]}")
        return done.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.ceph(*args, "--format", "json"))

    def osds_up_in(self) -> tuple[int, int]:
        stat = self.json("osd", "stat")
        stat = stat.get("osdmap", stat)
        return int(stat["num_up_osds"]), int(stat["num_in_osds"])

    def pgs_clean(self) -> bool:
        status = self.json("status")
        pgmap = status["pgmap"]
        states = {s["state_name"]: s["count"] for s in pgmap.get("pgs_by_state", [])}
        return bool(pgmap["num_pgs"] > 0 and states.get("active+clean", 0) == pgmap["num_pgs"])

    def write_objects(self, pool: str, count: int, size: int = 4096, prefix: str = "object") -> None:
        payload = self.dir / "payload"
        payload.write_bytes(os.urandom(size))
        for index in range(count):
            self.ceph_rados(pool, "put", f"{prefix}-{index}", str(payload))

    def ceph_rados(self, pool: str, *args: str) -> None:
        subprocess.run(["rados", *self.client_args, "-p", pool, *args], check=True, capture_output=True,
                       timeout=CALL_TIMEOUT_S)

    def wait(self, what: str, condition: Callable[[], bool], timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if condition():
                    return
            except (RuntimeError, subprocess.TimeoutExpired, KeyError, ValueError, StopIteration, OSError):
                pass
            time.sleep(0.5)  # polling the cluster's own state, bounded by the deadline
        raise AssertionError(f"Ceph lab: {what} not reached in {timeout_s:.0f} s; {self._logs()}")

    # ------------------------------------------------------------------ operations
    def add_osd(self) -> int:
        osd_uuid = str(uuid.uuid4())
        osd_id = int(self.ceph("osd", "new", osd_uuid).strip())
        data = self.dir / "osd" / f"ceph-{osd_id}"
        data.mkdir(parents=True)
        self.ceph("auth", "get-or-create", f"osd.{osd_id}", "osd", "allow *", "mon", "allow profile osd", "mgr",
                  "allow profile osd", "-o", str(data / "keyring"))
        _run(["ceph-osd", "-c", str(self.conf), "-i", str(osd_id), "--mkfs", "--osd-uuid", osd_uuid],
             "ceph-osd --mkfs", timeout_s=120)
        self.osd_ids.append(osd_id)
        self.start_osd(osd_id)
        return osd_id

    def start_osd(self, osd_id: int) -> None:
        self._launch(f"osd.{osd_id}", ["ceph-osd", "-f", "-c", str(self.conf), "-i", str(osd_id)])

    def stop_osd(self, osd_id: int) -> None:
        self._stop(f"osd.{osd_id}")

    def stop_mon(self) -> None:
        self._stop("mon.a")

    def create_pool(self, name: str, pgs: int = 8) -> None:
        """A replicated pool for `rados` objects, once all its placement groups are active and clean."""
        self.ceph("osd", "pool", "create", name, str(pgs))
        self.ceph("osd", "pool", "application", "enable", name, "rados")
        self.wait(f"pool {name}'s placement groups active+clean", self.pgs_clean, 120)

    def enable_prometheus(self, scrape_interval_s: int) -> str:
        """Turn on the mgr's `prometheus` module on a free loopback port; its address."""
        self.prometheus_port = free_port()
        for key, value in (("server_addr", "127.0.0.1"), ("server_port", str(self.prometheus_port)),
                           ("scrape_interval", str(scrape_interval_s))):
            self.ceph("config", "set", "mgr", f"mgr/prometheus/{key}", value)
        self.ceph("mgr", "module", "enable", "prometheus")
        self.wait("the prometheus module serving", lambda: "ceph_health_status" in self.scrape(), 90)
        # `ceph mgr services` names it a moment later (a new mgr map): the agent looks it up there
        self.wait("the module in `ceph mgr services`", lambda: "prometheus" in self.json("mgr", "services"), 60)
        return f"http://127.0.0.1:{self.prometheus_port}/"

    def scrape(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.prometheus_port}/metrics", timeout=10) as response:
            return str(response.read().decode())

    def scraped(self, name: str) -> float:
        """The value of the module's first sample whose line starts with name."""
        line = next(line for line in self.scrape().splitlines() if line.startswith(name))
        return float(line.rsplit(" ", 1)[1])

    # ------------------------------------------------------------------ set-up
    def _write_conf(self, extra: dict[str, str]) -> None:
        for sub in ("mon", "mgr", "osd", "run", "log"):
            (self.dir / sub).mkdir()
        self.v2, self.v1 = free_port(), free_port()
        settings = {
            "fsid": self.fsid,
            "mon host": f"[v2:127.0.0.1:{self.v2},v1:127.0.0.1:{self.v1}]",
            "public addr": "127.0.0.1",
            "auth cluster required": "cephx", "auth service required": "cephx", "auth client required": "cephx",
            "osd crush chooseleaf type": "0",
            "osd pool default size": "3", "osd pool default min size": "2",
            "osd pool default pg autoscale mode": "off",
            "mon data avail warn": "5",
            "mon osd down out interval": "30",
            "mon allow pool delete": "true",
            "mon warn on pool no redundancy": "false",
            "auth allow insecure global id reclaim": "false",
            "osd objectstore": "bluestore",
            "bluestore block size": str(2 * 1024**3),
            "osd memory target": str(512 * 1024**2),
            "run dir": str(self.dir / "run"),
            "admin socket": str(self.dir / "run" / "$cluster-$name.$pid.asok"),
            "log file": str(self.dir / "log" / "$cluster-$name.log"),
            "pid file": str(self.dir / "run" / "$cluster-$name.pid"),
            "keyring": str(self.dir / "$cluster.$name.keyring"),
            "mon data": str(self.dir / "mon" / "$cluster-$id"),
            "mgr data": str(self.dir / "mgr" / "$cluster-$id"),
            "osd data": str(self.dir / "osd" / "$cluster-$id"),
            **extra,
        }
        self.conf.write_text("[global]\n" + "".join(f"{key} = {value}\n" for key, value in settings.items())
                             + f"[osd]\nkeyring = {self.dir / 'osd' / '$cluster-$id' / 'keyring'}\n"
                             + f"[mgr]\nkeyring = {self.dir / 'mgr' / '$cluster-$id' / 'keyring'}\n")

    def _start_mon(self) -> None:
        mon_keyring = self.dir / "mon.keyring"
        _run(["ceph-authtool", "--create-keyring", str(mon_keyring), "--gen-key", "-n", "mon.", "--cap", "mon",
              "allow *"], "ceph-authtool")
        _run(["ceph-authtool", "--create-keyring", str(self.admin_keyring), "--gen-key", "-n", "client.admin",
              "--cap", "mon", "allow *", "--cap", "osd", "allow *", "--cap", "mds", "allow *", "--cap", "mgr",
              "allow *"], "ceph-authtool")
        _run(["ceph-authtool", str(mon_keyring), "--import-keyring", str(self.admin_keyring)], "ceph-authtool")
        monmap = self.dir / "monmap"
        _run(["monmaptool", "--create", "--fsid", self.fsid, "--addv", "a",
              f"[v2:127.0.0.1:{self.v2},v1:127.0.0.1:{self.v1}]", str(monmap)], "monmaptool")
        (self.dir / "mon" / "ceph-a").mkdir()
        _run(["ceph-mon", "-c", str(self.conf), "--mkfs", "-i", "a", "--monmap", str(monmap), "--keyring",
              str(mon_keyring)], "ceph-mon --mkfs")
        self._launch("mon.a", ["ceph-mon", "-f", "-c", str(self.conf), "-i", "a"])
        self.wait("the mon answers", lambda: bool(self.ceph("mon", "stat", timeout_s=15)), 60)

    def _start_mgr(self) -> None:
        data = self.dir / "mgr" / "ceph-x"
        data.mkdir()
        self.ceph("auth", "get-or-create", "mgr.x", "mon", "allow profile mgr", "osd", "allow *", "mds", "allow *",
                  "-o", str(data / "keyring"))
        self._launch("mgr.x", ["ceph-mgr", "-f", "-c", str(self.conf), "-i", "x"])

    def _launch(self, name: str, argv: list[str]) -> None:
        with (self.dir / "log" / f"{name}.out").open("ab") as out:
            self.processes[name] = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def _stop(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def _logs(self) -> str:
        parts = []
        for path in sorted((self.dir / "log").glob("*")):
            text = path.read_text(errors="replace").strip().splitlines()[-5:]
            if text:
                parts.append(f"{path.name}: " + " | ".join(text))
        return "; ".join(parts)[-3000:]


def _run(argv: list[str], what: str, timeout_s: float = 60) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s)
    if done.returncode != 0:
        raise RuntimeError(f"{what}: exit {done.returncode}: {(done.stderr or done.stdout).strip()[-800:]}")
