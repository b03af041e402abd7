"""Plugins over SSH: Watchkeeper's one persistent connection against check_by_ssh (a login
per check), to the same OpenSSH server on 127.0.0.1, side by side.

    python bench/ssh.py --runs 1000

CPU is counted on both ends: the client (Watchkeeper's process, or check_by_ssh with its
ssh children) and the server (sshd and every session process it forked, live or reaped).
The remote user is a temporary system user with /bin/sh as its shell, so that neither side
pays for a heavy login shell (root's .bashrc here runs pyenv, ~100 ms per session). Needs
root (sshd, useradd), and the Debian packages openssh-server and monitoring-plugins-basic.
Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from cpu_accounting import tree_cpu

from watchkeeper.collect.ssh import SshTransport

PLUGIN = ["/usr/lib/nagios/plugins/check_dummy", "0", "ok"]
USER = "wkbench"
CHECK_BY_SSH = "/usr/lib/nagios/plugins/check_by_ssh"


def own_cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def prepare_user(directory: Path) -> None:
    """Host and client keys in `directory`, and the temporary user USER whose home it is."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(directory / "host_key")], check=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(directory / "client_key")], check=True)
    (directory / "authorized_keys").write_text((directory / "client_key.pub").read_text())
    directory.chmod(0o755)
    (directory / "authorized_keys").chmod(0o644)
    subprocess.run(["userdel", "--force", USER], check=False, stderr=subprocess.DEVNULL)  # left by a killed run
    # '*': no password, but not a locked account, which sshd would refuse even with a key
    subprocess.run(["useradd", "--system", "--password", "*", "--shell", "/bin/sh", "--home-dir", str(directory),
                    USER], check=True)


def start_sshd(directory: Path) -> tuple[subprocess.Popen[bytes], int, Path]:
    prepare_user(directory)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (directory / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {directory / 'host_key'}\nPidFile {directory / 'pid'}\n"
        f"AuthorizedKeysFile {directory / 'authorized_keys'}\nStrictModes no\nUsePAM no\nMaxStartups 100\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n"
        "LogLevel ERROR\nMaxSessions 10\n")
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    process = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(directory / "sshd_config")],
                               stderr=subprocess.DEVNULL)
    for _ in range(100):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)  # waiting for a daemon to listen, not synchronising a test
    host_key = (directory / "host_key.pub").read_text().split()
    (directory / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key[0]} {host_key[1]}\n")
    return process, port, directory / "client_key"


async def watchkeeper_runs(port: int, key: Path, known: Path, runs: int, server: int) -> dict[str, float]:
    ssh = SshTransport("bench", "127.0.0.1", port, USER, known_hosts=known, client_key=key)
    gate = asyncio.Semaphore(8)
    ok = 0
    errors: set[str] = set()

    async def one() -> None:
        nonlocal ok
        async with gate:
            run = await ssh.run_plugin(PLUGIN, 30.0, 65536)
            ok += run.exit_code == 0
            if run.exit_code != 0:
                errors.add(run.error or f"exit {run.exit_code}: {run.stdout[:200]!r} {run.stderr[:200]!r}")
    started = time.monotonic()
    await asyncio.gather(*(one() for _ in range(runs)))
    wall = time.monotonic() - started
    server_cpu = tree_cpu(server)  # with the connection still open: its session process is counted live
    await ssh.close()
    if errors:
        print(f"failed runs: {sorted(errors)[:5]}", file=sys.stderr)
    return {"runs": runs, "ok": ok, "seconds": round(wall, 2), "logins": ssh.connections_opened,
            "server_cpu": server_cpu}


def check_by_ssh_runs(port: int, key: Path, known: Path, runs: int) -> dict[str, float]:
    argv = [CHECK_BY_SSH, "-H", "127.0.0.1", "-p", str(port), "-l", USER, "-i", str(key),
            "-o", f"UserKnownHostsFile={known}", "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
            "-C", " ".join(PLUGIN)]

    def one(_: int) -> bool:
        return subprocess.run(argv, capture_output=True, check=False).returncode == 0
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=4) as pool:
        ok = sum(pool.map(one, range(runs)))
    wall = time.monotonic() - started
    return {"runs": runs, "ok": ok, "seconds": round(wall, 2), "logins": runs}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    args = parser.parse_args()
    if not Path(CHECK_BY_SSH).exists() or not Path("/usr/sbin/sshd").exists():
        print("needs Debian's openssh-server and monitoring-plugins-basic", file=sys.stderr)
        return 2
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="wk-bench-ssh-") as tmp:
        sshd, port, key = start_sshd(Path(tmp))
        known = Path(tmp) / "known_hosts"
        try:
            for name in ("watchkeeper", "check_by_ssh"):
                server_before = tree_cpu(sshd.pid)
                client_before = own_cpu(resource.RUSAGE_SELF) + own_cpu(resource.RUSAGE_CHILDREN)
                if name == "watchkeeper":
                    figures = asyncio.run(watchkeeper_runs(port, key, known, args.runs, sshd.pid))
                else:
                    figures = check_by_ssh_runs(port, key, known, args.runs)
                    figures["server_cpu"] = tree_cpu(sshd.pid)
                if figures["ok"] != args.runs:
                    raise SystemExit(f"{name}: only {figures['ok']} of {args.runs} plugin runs succeeded")
                client = own_cpu(resource.RUSAGE_SELF) + own_cpu(resource.RUSAGE_CHILDREN) - client_before
                server = figures.pop("server_cpu") - server_before
                figures.update({
                    "client_cpu_ms_per_check": round(1000 * client / args.runs, 2),
                    "server_cpu_ms_per_check": round(1000 * server / args.runs, 2),
                    "total_cpu_ms_per_check": round(1000 * (client + server) / args.runs, 2),
                })
                results[name] = figures
        finally:
            sshd.terminate()
            sshd.wait()
            subprocess.run(["userdel", "--force", USER], check=False, stderr=subprocess.DEVNULL)
    results["cpu_ratio"] = round(results["watchkeeper"]["total_cpu_ms_per_check"]
                                 / results["check_by_ssh"]["total_cpu_ms_per_check"], 3)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
