"""A real Bacula for tests: Debian's Bacula 9.6 director (SQLite catalog), storage daemon and
file daemon, configured in a temporary directory, on loopback ports of their own, with a
file-based storage device. Each daemon runs in the foreground (`-f`) as a child of the test
and is killed (its process group) when the lab closes, also when the test fails.

    with BaculaLab(tmp_path) as lab:
        lab.run_job("BackupGood")            # waits until the job has ended
        text = lab.console("list jobs")

Jobs: `BackupGood` (a small tree, pool `Main`), `BackupDeadClient` (its client's address has
nothing listening: it fails to connect), `BackupSmallPool` (pool `Small`: one volume of at
most 64 KiB, so a job that writes more fills it and then waits for an appendable volume).
Schedules, at a time of day twelve hours from the lab's start so that none runs during a test:
`BackupGood` and `BackupDeadClient` daily, `BackupSmallPool` on weekdays (Monday to Friday).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
from pathlib import Path
from types import TracebackType

SQL = Path("/usr/share/bacula-director/make_sqlite3_tables")
BINARIES = ("/usr/sbin/bacula-dir", "/usr/sbin/bacula-sd", "/usr/sbin/bacula-fd", "/usr/sbin/bconsole")
PASSWORD = "lab-password-not-secret"
START_S = 30.0


def unavailable() -> str | None:
    missing = [path for path in (*BINARIES, str(SQL)) if not Path(path).exists()]
    if missing:
        return ("Bacula (Debian packages bacula-director, bacula-director-sqlite3, bacula-sd, bacula-fd, "
                f"bacula-console): missing {', '.join(missing)}")
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class BaculaLab:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.work = root / "work"
        self.ports = {"dir": free_port(), "sd": free_port(), "fd": free_port(), "dead": free_port()}
        self.processes: list[subprocess.Popen[bytes]] = []
        self.bconsole_conf = root / "bconsole.conf"

    # ------------------------------------------------------------------ set-up
    def __enter__(self) -> BaculaLab:
        try:
            self._write()
            self._catalog()
            for daemon in ("sd", "fd", "dir"):
                self._start(daemon)
            self._wait_ready()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def _write(self) -> None:
        for directory in (self.work, self.root / "volumes", self.root / "small", self.root / "data" / "sub"):
            directory.mkdir(parents=True, exist_ok=True)
        (self.root / "data" / "a.txt").write_text("some data to back up\n" * 100)
        (self.root / "data" / "sub" / "b.bin").write_bytes(os.urandom(200_000))  # more than the Small pool holds
        p = self.ports
        at = time.strftime("%H:%M", time.localtime(time.time() + 12 * 3600))
        common = f'WorkingDirectory = "{self.work}"\n  PidDirectory = "{self.work}"\n'
        (self.root / "bacula-dir.conf").write_text(f"""
Director {{
  Name = lab-dir
  DIRport = {p['dir']}
  DirAddress = 127.0.0.1
  QueryFile = "/etc/bacula/scripts/query.sql"
  {common}  Maximum Concurrent Jobs = 10
  Password = "{PASSWORD}"
  Messages = Daemon
  FD Connect Timeout = 5 sec
  SD Connect Timeout = 5 sec
}}
Catalog {{
  Name = MyCatalog
  dbname = "bacula"; dbuser = ""; dbpassword = ""
}}
Messages {{
  Name = Standard
  catalog = all
  console = all, !skipped, !saved
  append = "{self.work}/log" = all, !skipped
}}
Messages {{
  Name = Daemon
  console = all, !skipped, !saved
  append = "{self.work}/log" = all, !skipped
}}
{_storage("LabStorage", "LabDevice", "LabFile", p['sd'])}
{_storage("SmallStorage", "SmallDevice", "SmallFile", p['sd'])}
{_client("lab-fd", p['fd'])}
{_client("dead-fd", p['dead'])}
FileSet {{
  Name = LabData
  Include {{
    Options {{
      signature = MD5
    }}
    File = "{self.root / 'data'}"
  }}
}}
Pool {{
  Name = Main
  Pool Type = Backup
  Label Format = "Main-"
  Maximum Volume Bytes = 50M
  Maximum Volumes = 10
  AutoPrune = no
  Recycle = no
}}
Pool {{
  Name = Small
  Pool Type = Backup
  Label Format = "Small-"
  Maximum Volume Bytes = 64K
  Maximum Volumes = 1
  AutoPrune = no
  Recycle = no
}}
Schedule {{
  Name = Daily
  Run = Full daily at {at}
}}
Schedule {{
  Name = Weekdays
  Run = Full mon-fri at {at}
}}
{_job("BackupGood", "Daily", "lab-fd", "LabStorage", "Main")}
{_job("BackupDeadClient", "Daily", "dead-fd", "LabStorage", "Main")}
{_job("BackupSmallPool", "Weekdays", "lab-fd", "SmallStorage", "Small")}
""")
        (self.root / "bacula-sd.conf").write_text(f"""
Storage {{
  Name = lab-sd
  SDPort = {p['sd']}
  SDAddress = 127.0.0.1
  {common}  Maximum Concurrent Jobs = 10
}}
Director {{
  Name = lab-dir
  Password = "{PASSWORD}"
}}
{_device("LabDevice", "LabFile", self.root / "volumes")}
{_device("SmallDevice", "SmallFile", self.root / "small")}
Messages {{
  Name = Standard
  director = lab-dir = all
}}
""")
        (self.root / "bacula-fd.conf").write_text(f"""
FileDaemon {{
  Name = lab-fd
  FDport = {p['fd']}
  FDAddress = 127.0.0.1
  {common}  Maximum Concurrent Jobs = 10
}}
Director {{
  Name = lab-dir
  Password = "{PASSWORD}"
}}
Messages {{
  Name = Standard
  director = lab-dir = all, !skipped, !restored
}}
""")
        self.bconsole_conf.write_text(f"""
Director {{
  Name = lab-dir
  DIRport = {p['dir']}
  address = 127.0.0.1
  Password = "{PASSWORD}"
}}
""")
        for name in ("bacula-dir.conf", "bacula-sd.conf", "bacula-fd.conf", "bconsole.conf"):
            (self.root / name).chmod(0o600)

    def _catalog(self) -> None:
        """The catalog's tables, from the SQL Debian's package ships."""
        script = SQL.read_text()
        found = re.search(r"<<END-OF-DATA\n(.*?)\nEND-OF-DATA", script, re.S)
        assert found is not None, f"{SQL} has no SQL between END-OF-DATA markers"
        with sqlite3.connect(self.work / "bacula.db") as db:
            db.executescript(found.group(1))

    def _start(self, daemon: str) -> None:
        binary = {"dir": "/usr/sbin/bacula-dir", "sd": "/usr/sbin/bacula-sd", "fd": "/usr/sbin/bacula-fd"}[daemon]
        conf = self.root / f"bacula-{daemon}.conf"
        log = (self.root / f"{daemon}.out").open("wb")
        self.processes.append(subprocess.Popen([binary, "-f", "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT,
                                               start_new_session=True))
        log.close()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_S
        while True:
            for process, daemon in zip(self.processes, ("sd", "fd", "dir"), strict=True):
                if process.poll() is not None:
                    raise RuntimeError(f"bacula-{daemon} exited with {process.returncode}: "
                                       + (self.root / f"{daemon}.out").read_text(errors="replace")[-2000:])
            try:
                if "Version:" in self.console("status director", timeout_s=5):
                    return
            except (subprocess.SubprocessError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Bacula director did not answer within {START_S:.0f} s")
            time.sleep(0.2)  # polling a daemon's start, not synchronising a test

    # ------------------------------------------------------------------ using it
    def console(self, commands: str, timeout_s: float = 30.0) -> str:
        done = subprocess.run(["/usr/sbin/bconsole", "-c", str(self.bconsole_conf)], input=commands + "\nquit\n",
                              capture_output=True, text=True, timeout=timeout_s, check=False)
        return done.stdout

    def run_job(self, name: str, wait: bool = True, timeout_s: float = 120.0) -> int:
        """Start a job; with `wait`, until it has ended (`wait jobid=N`). Returns its JobId."""
        said = self.console(f"run job={name} yes")
        found = re.search(r"JobId=(\d+)", said)
        if found is None:
            raise RuntimeError(f"the director did not start {name}: {said[-1000:]}")
        job = int(found.group(1))
        if wait:
            self.console(f"wait jobid={job}", timeout_s=timeout_s)
        return job

    def stop(self, daemon: str) -> None:
        index = ("sd", "fd", "dir").index(daemon)
        _kill(self.processes[index])

    def close(self) -> None:
        for process in reversed(self.processes):
            _kill(process)
        self.processes.clear()


def _client(name: str, port: int) -> str:
    return (f"Client {{\n  Name = {name}\n  Address = 127.0.0.1\n  FDPort = {port}\n  Catalog = MyCatalog\n"
            f"  Password = \"{PASSWORD}\"\n  AutoPrune = no\n}}\n")


def _job(name: str, schedule: str, client: str, storage: str, pool: str) -> str:
    """A full backup of the lab's data tree."""
    return (f"Job {{\n  Name = {name}\n  Type = Backup\n  Level = Full\n  Schedule = {schedule}\n  Client = {client}\n"
            f"  FileSet = LabData\n  Storage = {storage}\n  Pool = {pool}\n  Messages = Standard\n}}\n")


def _storage(name: str, device: str, media: str, port: int) -> str:
    """The director's view of one storage device."""
    return (f"Storage {{\n  Name = {name}\n  Address = 127.0.0.1\n  SDPort = {port}\n  Password = \"{PASSWORD}\"\n"
            f"  Device = {device}\n  Media Type = {media}\n  Maximum Concurrent Jobs = 10\n}}\n")


def _device(name: str, media: str, folder: Path) -> str:
    """A file storage device of the storage daemon: volumes are files in `folder`, labelled as needed."""
    return (f"Device {{\n  Name = {name}\n  Media Type = {media}\n  Archive Device = \"{folder}\"\n  LabelMedia = yes\n"
            "  Random Access = yes\n  AutomaticMount = yes\n  RemovableMedia = no\n  AlwaysOpen = no\n"
            "  Maximum Concurrent Jobs = 5\n}\n")


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def leftovers() -> list[str]:
    """Bacula daemons still running (a test that did not clean up)."""
    found = shutil.which("pgrep")
    if found is None:
        return []
    done = subprocess.run([found, "-fa", "bacula-(dir|sd|fd) -f"], capture_output=True, text=True, check=False)
    return done.stdout.splitlines()
