"""A real MooseFS 3.0 cluster on this machine, for tests and benchmarks: one master, one metalogger,
N chunkservers and a FUSE mount, all from Debian's `moosefs-*` packages.

    with MooseFSLab.start(chunkservers=4) as lab:
        lab.fill("goal3", goal=3, small=100)
        lab.kill_chunkserver(2)
        lab.cli("-SIC")

Facts this rests on (measured on this machine kind, Debian 12, kernel 6.18, MooseFS 3.0.117):

* MooseFS 3.0 refuses loopback between chunkserver and master (both sides check for 127.x), so
  the daemons run in a private network namespace whose only device is `lo`, carrying 127.0.0.1
  and /32 addresses from the benchmarking range 198.18.0.0/24. Nothing can leave it. Clients
  (`mfscli`, `mfsmount`, the `mfs*` file tools) run inside it through `nsenter --net`; the FUSE
  mount itself is visible machine-wide.
* Ports inside the namespace: master 19419 (metalogger), 19420 (chunkservers), 19421 (clients);
  chunkserver i listens on 198.18.0.(10+i):(19421+i).
* The master's chunk loop is 60 s at the least (`CHUNKS_LOOP_MIN_TIME`); replication starts 5 s
  after the master does (`REPLICATIONS_DELAY_INIT`, default 60), and a gracefully stopped
  chunkserver is in temporary maintenance for `CS_TEMP_MAINTENANCE_MODE_TIMEOUT` (60 s here).
  `CHUNKS_WRITE_REP_LIMIT = 0,0,0,0` holds all replication, which makes counts deterministic.
* Chunkservers use plain directories under the lab's folder: they all report the host
  filesystem's size, which is fine without per-disk size limits and needs no loop devices.

Nothing outside the lab's folder is touched except the namespace `/run/netns/<name>` and the
FUSE mount under the folder. Teardown leaves neither, also after a failure: every process the lab
starts is in the namespace, so `ip netns pids` finds even one that escaped its session, and a
lab whose creator died (a test run killed with SIGKILL) is swept by the next `start`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

PACKAGES = ("moosefs-master", "moosefs-chunkserver", "moosefs-cli", "moosefs-client", "moosefs-metalogger")
BINARIES = ("mfsmaster", "mfschunkserver", "mfsmetalogger", "mfscli", "mfsmount", "mfssetgoal", "mfsfileinfo")
LAB_PREFIX = "watchkeeper-mfs-lab-"
NETNS_PREFIX = "wkmfs"
NET = "198.18.0"
MASTER_IP = f"{NET}.1"
METALOGGER_IP = f"{NET}.2"
ML_PORT, CS_PORT, CLIENT_PORT = 19419, 19420, 19421
CLIENT_HOST = "127.0.0.1"
MASTER_TUNING = {
    "REPLICATIONS_DELAY_INIT": "5",
    "CHUNKS_LOOP_MIN_TIME": "60",
    "CHUNKS_LOOP_MAX_CPS": "100000",
    "CHUNKS_WRITE_REP_LIMIT": "2,1,1,4",
    "CHUNKS_READ_REP_LIMIT": "10,5,2,5",
    "CS_TEMP_MAINTENANCE_MODE_TIMEOUT": "60",
}


class LabError(RuntimeError):
    """The lab could not do what was asked; the message names the log to read."""


def cs_address(index: int) -> str:
    return f"{NET}.{10 + index}:{CLIENT_PORT + index}"


def unavailable() -> str | None:
    """Why a lab cannot start here, or None."""
    if os.geteuid() != 0:
        return "root (for the network namespace and the FUSE mount)"
    missing = [name for name in (*BINARIES, "nsenter", "ip") if shutil.which(name) is None]
    if missing:
        return f"{', '.join(missing)} (Debian packages {' '.join(PACKAGES)}, util-linux, iproute2)"
    if not Path("/dev/fuse").exists():
        return "/dev/fuse (FUSE)"
    return None


@dataclass
class MooseFSLab:
    directory: Path
    netns: str
    chunkservers: int
    master_extra: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    # ------------------------------------------------------------------ life cycle
    @classmethod
    def start(cls, chunkservers: int = 4, master_extra: dict[str, str] | None = None,
              timeout_s: float = 60.0) -> MooseFSLab:
        """A running cluster whose master sees every chunkserver; torn down again if that fails."""
        sweep_stale_labs()
        # not under pytest's tmp_path: that is private to root, and the daemons run as user mfs
        directory = Path(tempfile.mkdtemp(prefix=LAB_PREFIX))
        directory.chmod(0o755)
        lab = cls(directory, f"{NETNS_PREFIX}{os.getpid()}x{directory.name[-6:]}", chunkservers,
                  dict(master_extra or {}))
        (directory / "lab.json").write_text(json.dumps({"owner": os.getpid(), "netns": lab.netns}))
        try:
            lab._create_netns()
            lab._write_configs()
            lab._launch("master", "mfsmaster", lab._etc / "mfsmaster.cfg", "-a")
            lab._wait("the master to answer", lambda: lab._mfscli_ok("-SIG"), timeout_s, "master")
            lab._launch("metalogger", "mfsmetalogger", lab._etc / "mfsmetalogger.cfg")
            for index in range(1, chunkservers + 1):
                lab._launch(f"cs{index}", "mfschunkserver", lab._cs_cfg(index))
            lab.wait_chunkservers(range(1, chunkservers + 1), up=True, timeout_s=timeout_s)
            lab.mount(timeout_s)
        except BaseException:
            lab.close()
            raise
        return lab

    def __enter__(self) -> MooseFSLab:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Stop everything, unmount, delete the namespace and the folder. Safe to call twice."""
        teardown(self.directory, self.netns, self.processes)

    # ------------------------------------------------------------------ what tests use
    @property
    def prefix(self) -> list[str]:
        """Run a command inside the lab's network namespace: `[*lab.prefix, "mfscli", ...]`."""
        return ["nsenter", f"--net=/run/netns/{self.netns}", "--"]

    @property
    def mountpoint(self) -> Path:
        return self.directory / "mnt"

    def cli(self, *args: str, timeout_s: float = 30.0) -> str:
        done = subprocess.run([*self.prefix, "mfscli", "-H", CLIENT_HOST, "-P", str(CLIENT_PORT), *args],
                              capture_output=True, text=True, timeout=timeout_s)
        if done.returncode != 0:
            raise LabError(f"mfscli {' '.join(args)} failed ({done.returncode}): {done.stderr[-500:]}")
        return done.stdout

    def run(self, *argv: str, timeout_s: float = 60.0) -> subprocess.CompletedProcess[str]:
        """Any command inside the namespace (`mfssetgoal`, `mfsfileinfo`, ...)."""
        return subprocess.run([*self.prefix, *argv], capture_output=True, text=True, timeout=timeout_s)

    def fill(self, name: str, goal: int, small: int = 100, small_kib: int = 16, big: int = 0,
             big_mib: int = 100) -> Path:
        """Random files with `goal` copies each under the mount: small ones of a quarter to all of
        `small_kib` KiB, and `big` files of `big_mib` MiB."""
        folder = self.mountpoint / name
        folder.mkdir(exist_ok=True)
        done = self.run("mfssetgoal", "-r", str(goal), str(folder))
        if done.returncode != 0:
            raise LabError(f"mfssetgoal on {folder} failed: {done.stderr[-500:]}")
        for index in range(1, small + 1):
            (folder / f"small-{index}").write_bytes(os.urandom(small_kib * 1024 * (index % 4 + 1) // 4))
        for index in range(1, big + 1):
            with (folder / f"big-{index}").open("wb") as out:
                for _ in range(big_mib):
                    out.write(os.urandom(1 << 20))
                out.flush()
                os.fsync(out.fileno())
        os.sync()
        return folder

    def kill_chunkserver(self, index: int, graceful: bool = False) -> None:
        """SIGKILL (a crash), or the daemon's own stop (which MooseFS takes as temporary maintenance)."""
        name = f"cs{index}"
        process = self.processes.get(name)
        if process is None or process.poll() is not None:
            return
        if graceful:
            process.send_signal(signal.SIGTERM)
        else:
            process.kill()
        process.wait(timeout=60)
        self.wait_chunkservers([index], up=False, timeout_s=30)

    def start_chunkserver(self, index: int, timeout_s: float = 60.0) -> None:
        """Start it again, or resume it when frozen; returns when the master sees it."""
        name = f"cs{index}"
        process = self.processes.get(name)
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGCONT)
        else:
            self._launch(name, "mfschunkserver", self._cs_cfg(index))
        self.wait_chunkservers([index], up=True, timeout_s=timeout_s)

    def freeze_chunkserver(self, index: int) -> None:
        """SIGSTOP: a hung server, which the master drops after about 10 s."""
        self.processes[f"cs{index}"].send_signal(signal.SIGSTOP)

    def thaw_chunkserver(self, index: int) -> None:
        self.processes[f"cs{index}"].send_signal(signal.SIGCONT)

    def mark_for_removal(self, index: int, marked: bool = True) -> None:
        """A `*` before the disk in mfshdd.cfg, then the chunkserver reloads its configuration."""
        disk = self.directory / f"cs{index}" / "disk" / "chunks"
        (self.directory / f"cs{index}" / "mfshdd.cfg").write_text(("*" if marked else "") + f"{disk}\n")
        self.processes[f"cs{index}"].send_signal(signal.SIGHUP)

    def replication(self, paused: bool) -> None:
        """Hold all replication (`CHUNKS_WRITE_REP_LIMIT = 0,0,0,0`) or release it; the master reloads."""
        self._write_master_cfg({"CHUNKS_WRITE_REP_LIMIT": "0,0,0,0"} if paused else {})
        self.processes["master"].send_signal(signal.SIGHUP)

    def connected_chunkservers(self) -> dict[str, bool]:
        """`ip:port` of every chunkserver the master lists as connected, and whether its disk scan is done."""
        seen: dict[str, bool] = {}
        with contextlib.suppress(LabError, subprocess.TimeoutExpired):
            for line in self.cli("-SCS").splitlines():
                fields = line.split("\t")
                if fields[0] == "chunk servers:" and len(fields) >= 15:
                    seen[f"{fields[1]}:{fields[2]}"] = _number(fields[10]) > 0 or _number(fields[14]) > 0
        return seen

    def wait_chunkservers(self, indexes: range | list[int], up: bool, timeout_s: float) -> None:
        wanted = [cs_address(index) for index in indexes]

        def done() -> bool:
            seen = self.connected_chunkservers()
            return all(seen.get(address, False) if up else address not in seen for address in wanted)

        self._wait(f"the master to {'see' if up else 'drop'} {', '.join(wanted)}", done, timeout_s, "master")

    def mount(self, timeout_s: float = 60.0) -> None:
        if os.path.ismount(self.mountpoint):
            return
        self.mountpoint.mkdir(exist_ok=True)
        self._launch("mount", "mfsmount", None, str(self.mountpoint), "-f", "-H", CLIENT_HOST, "-P",
                     str(CLIENT_PORT), "-o", "mfsnice=0,mfsallowoomkiller,mfsioretries=5")
        self._wait(f"the FUSE mount at {self.mountpoint}", lambda: os.path.ismount(self.mountpoint), timeout_s,
                   "mount")

    # ------------------------------------------------------------------ internals
    @property
    def _etc(self) -> Path:
        return self.directory / "etc"

    def _cs_cfg(self, index: int) -> Path:
        return self.directory / f"cs{index}" / "mfschunkserver.cfg"

    def _create_netns(self) -> None:
        _checked(["ip", "netns", "add", self.netns])
        _checked([*self.prefix, "ip", "link", "set", "lo", "up"])
        addresses = [MASTER_IP, METALOGGER_IP] + [f"{NET}.{10 + i}" for i in range(1, self.chunkservers + 1)]
        for address in addresses:
            _checked([*self.prefix, "ip", "addr", "add", f"{address}/32", "dev", "lo"])

    def _write_configs(self) -> None:
        for name in ("etc", "master", "metalogger", "log", "mnt"):
            (self.directory / name).mkdir()
        # an empty file system: the same 8 bytes as the package's metadata.mfs.empty
        (self.directory / "master" / "metadata.mfs").write_bytes(b"MFSM NEW")
        (self._etc / "mfsexports.cfg").write_text(
            f"127.0.0.1\t/\trw,alldirs,admin,maproot=0:0\n127.0.0.1\t.\trw\n"
            f"{NET}.0/24\t/\trw,alldirs,admin,maproot=0:0\n{NET}.0/24\t.\trw\n")
        (self._etc / "mfstopology.cfg").write_text("")
        self._write_master_cfg({})
        _write_cfg(self._etc / "mfsmetalogger.cfg", {
            **_COMMON, "SYSLOG_IDENT": f"{self.netns}-metalogger", "DATA_PATH": str(self.directory / "metalogger"),
            "MASTER_RECONNECTION_DELAY": "1", "BIND_HOST": METALOGGER_IP, "MASTER_HOST": MASTER_IP,
            "MASTER_PORT": str(ML_PORT)})
        for index in range(1, self.chunkservers + 1):
            folder = self.directory / f"cs{index}"
            (folder / "data").mkdir(parents=True)
            (folder / "disk" / "chunks").mkdir(parents=True)
            ip, port = cs_address(index).split(":")
            _write_cfg(self._cs_cfg(index), {
                **_COMMON, "SYSLOG_IDENT": f"{self.netns}-cs{index}", "DATA_PATH": str(folder / "data"),
                "HDD_CONF_FILENAME": str(folder / "mfshdd.cfg"), "HDD_LEAVE_SPACE_DEFAULT": "64MiB",
                "WORKERS_MAX": "32", "WORKERS_MAX_IDLE": "4", "MASTER_RECONNECTION_DELAY": "1", "BIND_HOST": ip,
                "MASTER_HOST": MASTER_IP, "MASTER_PORT": str(CS_PORT), "CSSERV_LISTEN_HOST": ip,
                "CSSERV_LISTEN_PORT": port})
            (folder / "mfshdd.cfg").write_text(f"{folder / 'disk' / 'chunks'}\n")
        for name in ("master", "metalogger", *(f"cs{i}" for i in range(1, self.chunkservers + 1))):
            subprocess.run(["chown", "-R", "mfs:mfs", str(self.directory / name)], check=True)

    def _write_master_cfg(self, override: dict[str, str]) -> None:
        _write_cfg(self._etc / "mfsmaster.cfg", {
            **_COMMON, "SYSLOG_IDENT": f"{self.netns}-master", "DATA_PATH": str(self.directory / "master"),
            "EXPORTS_FILENAME": str(self._etc / "mfsexports.cfg"),
            "TOPOLOGY_FILENAME": str(self._etc / "mfstopology.cfg"), "LOCK_MEMORY": "0", "BACK_LOGS": "5",
            "MATOML_LISTEN_HOST": MASTER_IP, "MATOML_LISTEN_PORT": str(ML_PORT),
            "MATOCS_LISTEN_HOST": MASTER_IP, "MATOCS_LISTEN_PORT": str(CS_PORT),
            "MATOCL_LISTEN_HOST": "*", "MATOCL_LISTEN_PORT": str(CLIENT_PORT),
            **MASTER_TUNING, **self.master_extra, **override})

    def _launch(self, name: str, binary: str, config: Path | None, *args: str) -> None:
        """A daemon in the foreground, in its own session, inside the namespace; its output to log/NAME.log."""
        argv = [*self.prefix, binary, *args] if config is None else [
            *self.prefix, binary, "-f", "-n", *args, "-c", str(config), "start"]
        with (self.directory / "log" / f"{name}.log").open("ab") as log:
            self.processes[name] = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                                    start_new_session=True)

    def _mfscli_ok(self, *args: str) -> bool:
        try:
            self.cli(*args, timeout_s=5)
        except (LabError, subprocess.TimeoutExpired):
            return False
        return True

    def _wait(self, what: str, condition: Callable[[], bool], timeout_s: float, log: str) -> None:
        """Poll the real cluster until `condition` holds; the cluster sets the pace, the deadline bounds it."""
        deadline = time.monotonic() + timeout_s
        while not condition():
            process = self.processes.get(log)
            if process is not None and process.poll() is not None:
                raise LabError(f"{log} exited ({process.returncode}) while waiting for {what}; "
                               f"see {self.directory / 'log' / (log + '.log')}: {_tail(self.directory, log)}")
            if time.monotonic() > deadline:
                raise LabError(f"timed out after {timeout_s:g} s waiting for {what}; "
                               f"logs in {self.directory / 'log'}: {_tail(self.directory, log)}")
            time.sleep(0.2)


_COMMON = {"WORKING_USER": "mfs", "WORKING_GROUP": "mfs", "NICE_LEVEL": "0", "DISABLE_OOM_KILLER": "0"}


def _write_cfg(path: Path, values: dict[str, str]) -> None:
    path.write_text("# written by tests/labs/moosefs.py\n" + "".join(f"{k} = {v}\n" for k, v in values.items()))


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


def _tail(directory: Path, log: str) -> str:
    with contextlib.suppress(OSError):
        return (directory / "log" / f"{log}.log").read_text(errors="replace")[-400:]
    return ""


def _checked(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise LabError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")


# ---------------------------------------------------------------------- teardown, also of strays
def netns_pids(netns: str) -> list[int]:
    done = subprocess.run(["ip", "netns", "pids", netns], capture_output=True, text=True, timeout=30)
    return [int(word) for word in done.stdout.split() if word.isdecimal()]


def mounts_below(directory: Path) -> list[str]:
    """Mount points at or below `directory`, deepest first (from /proc/self/mounts)."""
    found = []
    with open("/proc/self/mounts") as mounts:
        for line in mounts:
            point = line.split()[1].replace("\\040", " ")
            if point == str(directory) or point.startswith(f"{directory}/"):
                found.append(point)
    return sorted(found, key=len, reverse=True)


def teardown(directory: Path | None, netns: str, processes: dict[str, subprocess.Popen[bytes]] | None = None) -> None:
    """Unmount, stop every process in the namespace (politely, then SIGKILL), delete it and the folder."""
    processes = processes or {}
    for point in mounts_below(directory) if directory is not None else []:
        if subprocess.run(["umount", point], capture_output=True, timeout=30).returncode != 0:
            subprocess.run(["umount", "-l", point], capture_output=True, timeout=30)
    namespace = Path(f"/run/netns/{netns}")
    # chunkservers, metalogger and the mount first, the master last: it then saves its metadata quickly
    order = sorted(processes.items(), key=lambda item: item[0] == "master")
    for _, process in order:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGCONT)  # a frozen daemon cannot act on SIGTERM
                process.terminate()
    deadline = time.monotonic() + 20
    for _, process in order:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
    if namespace.exists():
        for _ in range(50):  # anything left in the namespace, also what escaped its session
            pids = netns_pids(netns)
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.1)
    for process in processes.values():
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
    if namespace.exists():
        subprocess.run(["ip", "netns", "delete", netns], capture_output=True, timeout=30)
    release_netns_folder()
    if directory is not None and not mounts_below(directory):
        shutil.rmtree(directory, ignore_errors=True)


def release_netns_folder() -> None:
    """`ip netns add` bind-mounts /run/netns on itself and never undoes it: with no namespace
    left, unmount it, or this machine shows a filesystem /run/netns to anything that lists them."""
    folder = Path("/run/netns")
    if folder.is_dir() and not any(folder.iterdir()) and is_mount_point(folder):
        subprocess.run(["umount", str(folder)], capture_output=True, timeout=30)


def is_mount_point(path: Path) -> bool:
    """From the mount table: os.path.ismount misses a bind mount within one filesystem."""
    with open("/proc/self/mounts") as mounts:
        return any(line.split()[1].replace("\\040", " ") == str(path) for line in mounts)


def sweep_stale_labs() -> list[str]:
    """Tear down labs whose creating process is gone (a test run killed before its teardown)."""
    swept = []
    for directory in Path(tempfile.gettempdir()).glob(f"{LAB_PREFIX}*"):
        try:
            state = json.loads((directory / "lab.json").read_text())
            owner, netns = int(state["owner"]), str(state["netns"])
        except (OSError, ValueError, KeyError, TypeError):
            if directory.is_dir() and not mounts_below(directory) and not any(directory.iterdir()):
                directory.rmdir()  # created, never started
            continue
        if _alive(owner):
            continue
        teardown(directory, netns)
        swept.append(netns)
    known = Path("/run/netns")
    if known.is_dir():
        for namespace in known.glob(f"{NETNS_PREFIX}*"):
            owner_text = namespace.name[len(NETNS_PREFIX):].split("x")[0]
            if owner_text.isdecimal() and not _alive(int(owner_text)):
                teardown(None, namespace.name)
                swept.append(namespace.name)
    return swept


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def running_lab(chunkservers: int = 4, master_extra: dict[str, str] | None = None) -> Iterator[MooseFSLab]:
    lab = MooseFSLab.start(chunkservers, master_extra)
    try:
        yield lab
    finally:
        lab.close()
