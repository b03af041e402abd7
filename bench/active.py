"""Active checks: Watchkeeper against Debian's Nagios 4, configured the same, side by side.

    python bench/active.py --hosts 100 --services 50 --interval 5 --seconds 30

One generated Nagios configuration (hosts x services of check_dummy, every `interval`
seconds) is run by Nagios 4 as it is, and imported into Watchkeeper with `import nagios`.
The offered load (hosts x services / interval) is meant to be more than either can do, so
both run at saturation. For each: checks per second, CPU seconds per 1,000 checks (the
daemon, its workers and every plugin process, from the kernel's accounting of reaped
children), and p95 latency (how late a check started after it was due; Nagios's own
$SERVICELATENCY$, Watchkeeper's scheduler delays).

Needs root (Nagios drops to its own user) and the Debian packages nagios4-core and
monitoring-plugins-basic. Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pwd
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from cpu_accounting import tree_cpu

from watchkeeper.nagios_import.mapping import map_config
from watchkeeper.nagios_import.objects import read_config
from watchkeeper.notify.notifier import Notifier
from watchkeeper.paths import Paths
from watchkeeper.schedule.scheduler import Scheduler
from watchkeeper.store.active_tables import ActiveTables
from watchkeeper.store.database import Store
from watchkeeper.store.notify_tables import NotifyTables

NAGIOS = "/usr/sbin/nagios4"
PLUGINS = "/usr/lib/nagios/plugins"


def write_config(directory: Path, hosts: int, services: int, interval: int) -> Path:
    """A complete nagios.cfg that Nagios 4 runs in `directory`, and the objects both systems use."""
    days = "".join(f" {day} 00:00-24:00\n" for day in ("sunday", "monday", "tuesday", "wednesday", "thursday",
                                                          "friday", "saturday"))
    quiet = " check_period 24x7\n notification_period 24x7\n contacts bench\n notifications_enabled 0\n"
    objects = [
        f"define timeperiod {{\n timeperiod_name 24x7\n alias always\n{days}}}",
        "define command {\n command_name notify-none\n command_line /bin/true\n}",
        "define contact {\n contact_name bench\n host_notifications_enabled 0\n service_notifications_enabled 0\n"
        " host_notification_period 24x7\n service_notification_period 24x7\n host_notification_options n\n"
        " service_notification_options n\n host_notification_commands notify-none\n"
        " service_notification_commands notify-none\n}",
        "define command {\n command_name check_dummy\n command_line $USER1$/check_dummy $ARG1$ $ARG2$\n}",
        "define host {\n name bench-host\n max_check_attempts 3\n check_interval 60\n active_checks_enabled 0\n"
        f"{quiet} register 0\n}}",
        f"define service {{\n name bench-service\n check_interval {interval}\n retry_interval {interval}\n"
        f" max_check_attempts 3\n{quiet} register 0\n}}",
    ]
    for h in range(hosts):
        objects.append(f"define host {{\n use bench-host\n host_name host{h:04d}\n address 127.0.0.1\n}}")
    for s in range(services):
        objects.append(f"define service {{\n use bench-service\n host_name *\n service_description svc{s:03d}\n"
                       f" check_command check_dummy!0!ok\n}}")
    (directory / "objects.cfg").write_text("\n".join(objects) + "\n")
    (directory / "resource.cfg").write_text(f"$USER1$={PLUGINS}\n")
    settings = {
        "cfg_file": "objects.cfg", "resource_file": "resource.cfg", "interval_length": "1",
        "log_file": "nagios.log", "status_file": "status.dat", "status_update_interval": "10",
        "lock_file": "nagios.lock", "temp_file": "nagios.tmp", "temp_path": str(directory),
        "check_result_path": str(directory / "results"), "object_cache_file": "objects.cache",
        "precached_object_file": "objects.precache", "state_retention_file": "retention.dat",
        "retain_state_information": "0", "check_external_commands": "0", "enable_notifications": "0",
        "use_syslog": "0", "log_initial_states": "0", "enable_flap_detection": "0", "execute_host_checks": "0",
        "max_concurrent_checks": "0", "check_result_reaper_frequency": "1", "max_check_result_reaper_time": "30",
        "service_inter_check_delay_method": "s", "max_service_check_spread": str(max(interval, 1)),
        "process_performance_data": "1", "service_perfdata_file": str(directory / "perfdata"),
        "service_perfdata_file_template": "$TIMET$\\t$SERVICELATENCY$", "service_perfdata_file_mode": "a",
        "service_perfdata_file_processing_interval": "0", "nagios_user": "nagios", "nagios_group": "nagios",
        "illegal_macro_output_chars": "`~$&|'\"<>", "event_broker_options": "0", "enable_event_handlers": "0",
    }
    (directory / "results").mkdir()
    main = directory / "nagios.cfg"
    main.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
    return main


def machine_busy_seconds() -> float:
    """CPU seconds every core of the machine spent busy since boot (from /proc/stat)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_nagios(directory: Path, main: Path, seconds: float) -> dict[str, float]:
    user = pwd.getpwnam("nagios")
    for path in [directory, *directory.rglob("*")]:
        os.chown(path, user.pw_uid, user.pw_gid)
    check = subprocess.run([NAGIOS, "-v", str(main)], capture_output=True, text=True, check=False)
    if check.returncode != 0:
        raise SystemExit(f"Nagios refused the configuration:\n{check.stdout[-2000:]}")
    process = subprocess.Popen([NAGIOS, str(main)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               cwd=directory)
    started, busy = time.monotonic(), machine_busy_seconds()
    time.sleep(seconds)  # the measured window: Nagios runs on its own meanwhile
    cpu = tree_cpu(process.pid)  # before stopping: Nagios does not wait for its workers, the kernel would drop them
    wall, busy = time.monotonic() - started, machine_busy_seconds() - busy
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=120)
    lines = (directory / "perfdata").read_text().splitlines() if (directory / "perfdata").exists() else []
    latencies = sorted(float(line.split("\t")[1]) for line in lines if "\t" in line)
    return _figures(len(latencies), cpu, wall, latencies, busy)


async def run_watchkeeper(directory: Path, main: Path, seconds: float) -> dict[str, float]:
    home = directory / "wk"
    store = Store(home / "watchkeeper.db")
    report = map_config(read_config(main))
    for host in report.hosts:
        store.add_host(host)
    ActiveTables(store).add_many(report.checks)
    tables = NotifyTables(store)
    tables.seed_defaults()
    scheduler = Scheduler(store, Paths(home), notifier=Notifier(tables), freeze_gc=True)  # as the daemon runs it
    stop = asyncio.Event()
    cpu_before, children_before = self_cpu(), children_cpu()
    started, busy = time.monotonic(), machine_busy_seconds()
    task = asyncio.create_task(scheduler.run(stop))
    await asyncio.sleep(seconds)  # the measured window: the scheduler runs on its own meanwhile
    stop.set()
    await task
    wall, busy = time.monotonic() - started, machine_busy_seconds() - busy
    cpu = self_cpu() - cpu_before + children_cpu() - children_before
    store.close()
    delays = sorted(scheduler.stats.start_delays)
    return _figures(scheduler.stats.plugins_run, cpu, wall, delays, busy)


def _figures(checks: int, cpu: float, wall: float, latencies: list[float], busy: float) -> dict[str, float]:
    """`busy`: what the whole machine used meanwhile; beyond `cpu`, that is background load."""
    return {
        "checks": checks,
        "seconds": round(wall, 1),
        "checks_per_second": round(checks / wall, 1),
        "cpu_seconds": round(cpu, 2),
        "cpu_seconds_per_1000_checks": round(1000 * cpu / checks, 3) if checks else float("nan"),
        "cores_busy": round(cpu / wall, 2),
        "p95_latency_seconds": round(statistics.quantiles(latencies, n=20)[-1], 3) if len(latencies) > 20 else 0.0,
        "background_cores_busy": round(max(busy - cpu, 0.0) / wall, 2),
    }


def one_run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="wk-bench-active-") as tmp:
        base = Path(tmp)
        base.chmod(0o755)  # Nagios runs as its own user and must reach its directory
        nagios_dir, wk_dir = base / "nagios", base / "watchkeeper"
        nagios_dir.mkdir()
        wk_dir.mkdir()
        nagios_main = write_config(nagios_dir, args.hosts, args.services, args.interval)
        shutil.copy(nagios_dir / "objects.cfg", wk_dir / "objects.cfg")
        wk_main = write_config(wk_dir, args.hosts, args.services, args.interval)
        load = float(Path("/proc/loadavg").read_text().split()[0])
        nagios = run_nagios(nagios_dir, nagios_main, args.seconds)
        watchkeeper = asyncio.run(run_watchkeeper(wk_dir, wk_main, args.seconds))
    services = args.hosts * args.services
    return {
        "services": services, "interval_seconds": args.interval, "load_average_1m_before": load,
        "offered_checks_per_second": round(services / args.interval, 1),
        "nagios4": nagios, "watchkeeper": watchkeeper,
        "throughput_ratio": round(watchkeeper["checks_per_second"] / nagios["checks_per_second"], 2)
        if nagios["checks_per_second"] else None,
        "cpu_per_check_ratio": round(watchkeeper["cpu_seconds_per_1000_checks"]
                                     / nagios["cpu_seconds_per_1000_checks"], 2)
        if nagios["cpu_seconds_per_1000_checks"] else None,  # a tiny run may use less than one clock tick
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--services", type=int, default=50, help="per host")
    parser.add_argument("--interval", type=int, default=5, help="seconds between checks of one service")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long each system runs")
    parser.add_argument("--repeat", type=int, default=1, help="runs of both systems, one after the other")
    args = parser.parse_args()
    if not (Path(NAGIOS).exists() and Path(PLUGINS, "check_dummy").exists()):
        print("needs Debian's nagios4-core and monitoring-plugins-basic", file=sys.stderr)
        return 2
    runs = [one_run(args) for _ in range(args.repeat)]
    ratios = sorted(run["cpu_per_check_ratio"] for run in runs if run["cpu_per_check_ratio"] is not None)
    print(json.dumps({"runs": runs, "median_cpu_per_check_ratio": statistics.median(ratios) if ratios else None},
                     indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
