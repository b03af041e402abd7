"""Many SSH hosts in one daemon: a persistent connection each, to several OpenSSH servers on
127.0.0.1, checked by the real scheduler for a while. Prints JSON.

    python bench/ssh_hosts.py --hosts 1000 --servers 4 --interval 30 --seconds 90

Each host's "agent" is `cat` of a saved agent output of this machine (so the figures are the
daemon's and OpenSSH's, not the agent's): every check cycle is one SSH session on the
host's connection, then split, parse, check and store. Reported: hosts connected, cycles
and services checked, the daemon's CPU per host cycle and per service, its peak RSS and
open descriptors (with what each connection costs), the servers' CPU, and the daemon's
open-file limit before and after it raised it. Needs root (sshd, useradd) and Debian's
openssh-server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cpu_accounting import tree_cpu
from ssh import USER, prepare_user

from engine import LagMonitor, take_snapshots
from watchkeeper.daemon import raise_open_file_limit
from watchkeeper.model.hosts import HostConfig
from watchkeeper.paths import Paths
from watchkeeper.schedule.scheduler import Scheduler
from watchkeeper.store.database import Store


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def start_servers(directory: Path, count: int, connections: int) -> tuple[list[subprocess.Popen[bytes]], list[int]]:
    prepare_user(directory)
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    processes, ports = [], []
    host_key = (directory / "host_key.pub").read_text().split()
    known = []
    for index in range(count):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        config = directory / f"sshd_config.{index}"
        config.write_text(
            f"Port {port}\nListenAddress 127.0.0.1\nHostKey {directory / 'host_key'}\n"
            f"PidFile {directory / f'pid.{index}'}\nAuthorizedKeysFile {directory / 'authorized_keys'}\n"
            f"StrictModes no\nUsePAM no\nMaxStartups {connections}\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nLogLevel ERROR\nMaxSessions 10\n")
        processes.append(subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(config)],
                                          stderr=subprocess.DEVNULL))
        ports.append(port)
        known.append(f"[127.0.0.1]:{port} {host_key[0]} {host_key[1]}")
    for port in ports:
        for _ in range(100):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)  # waiting for a daemon to listen, not synchronising a test
    Paths(directory / "wk").known_hosts.parent.mkdir(parents=True, exist_ok=True)
    Paths(directory / "wk").known_hosts.write_text("\n".join(known) + "\n")
    return processes, ports


async def measure(store: Store, home: Path, hosts: int, seconds: float) -> dict[str, float]:
    scheduler = Scheduler(store, Paths(home), concurrency=64, freeze_gc=True)  # as the daemon runs it
    stop = asyncio.Event()
    lag = LagMonitor()
    lagging = asyncio.create_task(lag.run(stop))
    fds_before, rss_before = open_descriptors(), rss_bytes()
    running = asyncio.create_task(scheduler.run(stop))
    cpu_before, started = own_cpu(), time.monotonic()
    peak_fds, peak_rss, connected = 0, 0, 0
    while time.monotonic() - started < seconds:
        await asyncio.sleep(1.0)  # sampling the process from outside the scheduler; bench only
        peak_fds, peak_rss = max(peak_fds, open_descriptors()), max(peak_rss, rss_bytes())
        connected = max(connected, sum(1 for runtime in scheduler.hosts.values()
                                       if getattr(runtime.transport, "_conn", None) is not None))
    cpu, wall = own_cpu() - cpu_before, time.monotonic() - started
    cycles, services = scheduler.stats.cycles, scheduler.stats.services_checked
    errors = scheduler.stats.fetch_errors
    stop.set()
    await running
    await lagging
    return {
        "hosts_connected_at_once": connected, "cycles": cycles, "fetch_errors": errors,
        "services_checked": services, "seconds": round(wall, 1),
        "cpu_ms_per_host_cycle": round(1000 * cpu / max(cycles, 1), 2),
        "cpu_ms_per_service": round(1000 * cpu / max(services, 1), 3),
        "cpu_busy_percent": round(100 * cpu / wall, 1),
        "peak_rss_bytes": peak_rss, "rss_bytes_per_host": round((peak_rss - rss_before) / hosts),
        "peak_open_descriptors": peak_fds, "descriptors_per_host": round((peak_fds - fds_before) / hosts, 2),
        **lag.figures(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--servers", type=int, default=4, help="sshd processes the hosts are spread over")
    parser.add_argument("--interval", type=float, default=30.0)
    parser.add_argument("--seconds", type=float, default=90.0)
    args = parser.parse_args()
    if not Path("/usr/sbin/sshd").exists():
        print("needs Debian's openssh-server", file=sys.stderr)
        return 2
    limits = raise_open_file_limit()
    output = take_snapshots(1)[0]
    with tempfile.TemporaryDirectory(prefix="wk-bench-sshhosts-") as tmp:
        directory = Path(tmp)
        servers, ports = start_servers(directory, args.servers, args.hosts)
        try:
            (directory / "agent-output.txt").write_bytes(output)
            (directory / "agent-output.txt").chmod(0o644)
            home = directory / "wk"
            store = Store(home / "watchkeeper.db")
            command = ["cat", str(directory / "agent-output.txt")]
            for index in range(args.hosts):
                store.add_host(HostConfig(f"ssh{index:04d}", f"ssh://{USER}@127.0.0.1:{ports[index % len(ports)]}",
                                          args.interval, {"ssh_key": str(directory / "client_key"),
                                                          "agent_command": command}))
            server_before = sum(tree_cpu(server.pid) for server in servers)
            result = asyncio.run(measure(store, home, args.hosts, args.seconds))
            server_cpu = sum(tree_cpu(server.pid) for server in servers) - server_before
            store.close()
        finally:
            for server in servers:
                server.terminate()
            for server in servers:
                server.wait()
            subprocess.run(["userdel", "--force", USER], check=False, stderr=subprocess.DEVNULL)
    print(json.dumps({"benchmark": "ssh_hosts", "python": sys.version.split()[0], "hosts": args.hosts,
                      "servers": args.servers, "interval_seconds": args.interval,
                      "open_file_limit_before_and_after": limits,
                      "load_average_1m": float(Path("/proc/loadavg").read_text().split()[0]),
                      "daemon": result,
                      "servers_cpu_ms_per_host_cycle": round(1000 * server_cpu / max(result["cycles"], 1), 2)},
                     indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
