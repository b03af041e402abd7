"""Noise benchmark: a seeded, realistic week of 75 hosts replayed through Watchkeeper's alerting
(soft/hard states, flapping, recurring downtime, the default notification rules, bulk and
digest), against a naive monitor that sends one notification per non-OK result.

The week holds what the users' blog complains about: "nothing happened" outputs, SSH
brute-force lines in every auth.log, update-available WARNs on every host every day, a kernel
update on Tuesday that leaves every host needing a reboot until Sunday, configuration left
unmerged on five hosts, CPU blips, a flapping interface, a 20-minute reboot of every host
inside the Sunday 02:00-04:00 maintenance downtime, and eleven real incidents (one a stuck
mail queue). Log lines go through the agent's logwatch
classification and the real logwatch check; everything else is a service result.

    .venv/bin/python bench/noise.py [--hosts 75] [--days 7] [--seed 7]

Prints JSON: notifications sent, each incident with minutes from hard state to notification,
and the naive baseline. Then `fresh_install`: the first day of a new installation, minute by
minute, through the real `Filesystem` check (its forecast) and the notifier: the installer's
burst of writes, apt's cache cleaned, a log that grows; it must send no problem notification.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from watchkeeper.agent import watchkeeper_agent as agent
from watchkeeper.checkapi import ValueStore
from watchkeeper.engine.checking import collapse
from watchkeeper.model.alerts import AlertPolicy
from watchkeeper.model.cycles import HostCycle, Outcome
from watchkeeper.model.hosts import HostConfig
from watchkeeper.model.notifications import Downtime
from watchkeeper.model.states import OK
from watchkeeper.notify.notifier import Notifier
from watchkeeper.plugins.filesystems.df import Filesystem
from watchkeeper.plugins.filesystems.space import SpaceParams, check_space
from watchkeeper.plugins.logwatch.logwatch import LogwatchParams, check_logwatch, parse_logwatch
from watchkeeper.store.database import Store
from watchkeeper.store.notify_tables import NotifyTables

START = datetime(2026, 11, 23, tzinfo=UTC).timestamp()  # a Monday
MINUTE = 60.0
AUTH_RULES = [["I", r"sshd\[\d+\]: (Failed password|Invalid user|Connection closed by|Disconnected from|"
                    r"error: maximum authentication attempts|Received disconnect)"],
              ["C", r"(?i)I/O error|Out of memory|segfault"], ["W", r"(?i)\berror\b"]]
BRUTE = ["sshd[{pid}]: Failed password for root from 203.0.113.{ip} port {port} ssh2",
         "sshd[{pid}]: Invalid user admin from 198.51.100.{ip} port {port}",
         "sshd[{pid}]: error: maximum authentication attempts exceeded for root from 203.0.113.{ip} port {port} ssh2",
         "sshd[{pid}]: Connection closed by authenticating user root 203.0.113.{ip} port {port} [preauth]"]
BASE = ["CPU load", "Memory", "Filesystem /", "APT updates", "Uptime", "Reboot needed", "Unmerged configuration",
        "Mail queue", "SSH keys root", "Time sync"]
LOG = "Log /var/log/auth.log"


@dataclass(frozen=True)
class Incident:
    name: str
    host: str
    service: str
    start: int
    """Minute of the week."""
    end: int
    state: int
    summary: str


def build(hosts: int, days: int, rng: random.Random) -> tuple[dict[tuple[str, str], list[tuple[int, int, int, str]]],
                                                              list[Incident], dict[str, tuple[int, int]],
                                                              dict[str, list[str]]]:
    """Per service: intervals (start, end, state, summary) that override OK; incidents; reboots."""
    minutes = days * 1440
    names = [f"srv{i:02d}" for i in range(hosts)]
    services = {name: list(BASE) + [LOG] for name in names}
    services[names[0]] += ["MooseFS chunkservers"]
    services[names[1 % hosts]] += ["Backup nightly"]
    services[names[2 % hosts]] += ["Ceph health"]
    services[names[3 % hosts]] += ["Interface eth0"]
    for name in names[:10]:
        services[name] += ["RAID VD c0/v0", "SMART /dev/sda", "ZFS pool tank"]
    spans: dict[tuple[str, str], list[tuple[int, int, int, str]]] = defaultdict(list)
    for name in names:
        for day in range(days):
            # updates appear at a random hour and are installed by unattended-upgrades at 06:00
            at = day * 1440 + rng.randrange(8 * 60, 22 * 60)
            spans[(name, "APT updates")].append((at, day * 1440 + 1440 + 360, 1, "3 updates pending (1 security)"))
            for _ in range(3):  # CPU blips of one or two minutes: soft, never hard
                blip = day * 1440 + rng.randrange(1440)
                spans[(name, "CPU load")].append((blip, blip + rng.choice((1, 2)), 2, "15 min load 9.8 on 4 cores"))
    kernel_day = 1  # Tuesday: unattended-upgrades installs a new kernel on every host at 06:00
    sunday = next((d for d in range(days) if datetime.fromtimestamp(START + d * 86400, UTC).weekday() == 6), days)
    for name in names:  # ...which waits for a reboot until Sunday's maintenance window
        if kernel_day < days:
            at = kernel_day * 1440 + 360 + rng.randrange(0, 30)
            spans[(name, "Reboot needed")].append((at, sunday * 1440 + 125 + rng.randrange(0, 100), 1,
                                                   "running kernel 6.1.0-27-amd64, a reboot starts 6.1.0-28-amd64"))
    for name in names[:5]:  # an upgrade leaves a maintainer's version next to an edited file
        at = 2 * 1440 + 361
        if at < minutes:
            spans[(name, "Unmerged configuration")].append(
                (at, minutes, 1, "1 package leftovers newer than the file they shadow: /etc/default/grub.dpkg-dist"))
    flapper = names[3 % hosts]
    for day in range(days):  # the flapping interface: a bad cable, an hour of toggling every day
        at = day * 1440 + rng.randrange(9 * 60, 17 * 60)
        for t in range(at, at + 60, 4):
            spans[(flapper, "Interface eth0")].append((t, t + 2, 2, "link down"))
    reboots: dict[str, tuple[int, int]] = {}
    sundays = [d for d in range(days) if datetime.fromtimestamp(START + d * 86400, UTC).weekday() == 6]
    for name in names:
        if sundays:
            at = sundays[0] * 1440 + 120 + rng.randrange(0, 100)
            reboots[name] = (at, at + 20)
    def pick(i: int) -> str:
        return names[i % hosts]
    incidents = [
        Incident("filesystem filling", pick(4), "Filesystem /", 1 * 1440 + 600, 2 * 1440 + 600, 2,
                 "95% used, full in 3 hours"),
        Incident("RAID VD degraded", pick(5), "RAID VD c0/v0", 1 * 1440 + 200, 1 * 1440 + 560, 2,
                 "Degraded: PD c0/e252/s3 Failed"),
        Incident("backup failing two nights", pick(1), "Backup nightly", 2 * 1440 + 90, 4 * 1440 + 90, 2,
                 "last 2 runs failed: tape drive not ready"),
        Incident("MooseFS chunkserver down", pick(0), "MooseFS chunkservers", 3 * 1440 + 700, 3 * 1440 + 740, 2,
                 "1 of 4 chunkservers down: 10.0.0.13:9422; 1200 chunks undergoal"),
        Incident("host down", pick(20), "", 3 * 1440 + 840, 3 * 1440 + 870, 2, "no route to host"),
        Incident("SMART pending sectors", pick(6), "SMART /dev/sda", 4 * 1440 + 300, minutes, 2,
                 "8 pending sectors"),
        Incident("ZFS pool degraded", pick(7), "ZFS pool tank", 4 * 1440 + 1000, 6 * 1440, 1,
                 "DEGRADED: /dev/sdc FAULTED (was /dev/sdc1)"),
        Incident("kernel I/O errors in a log", pick(40), LOG, 5 * 1440 + 420, 5 * 1440 + 421, 2, ""),
        Incident("memory exhausted", pick(50), "Memory", 5 * 1440 + 900, 5 * 1440 + 915, 2, "RAM used: 97.8%"),
        Incident("Ceph HEALTH_ERR", pick(2), "Ceph health", 6 * 1440 + 100, 6 * 1440 + 160, 2,
                 "HEALTH_ERR: 2 pgs inconsistent"),
        Incident("mail queue stuck", pick(30), "Mail queue", 2 * 1440 + 660, 2 * 1440 + 1020, 2,
                 "exim queue: 64 messages (warn/crit at 10/50), oldest 4 hours; deferred because: "
                 "defer (111): Connection refused (64)"),
    ]
    incidents = [i for i in incidents if i.start < minutes]
    for incident in incidents:
        if incident.service and incident.service != LOG:
            spans[(incident.host, incident.service)].append((incident.start, incident.end, incident.state,
                                                             incident.summary))
    return spans, incidents, reboots, services


def auth_lines(rng: random.Random, minute: int, host: str, incidents: list[Incident]) -> list[str]:
    lines = []
    if rng.random() < 0.3:  # a brute-force burst
        for _ in range(rng.randrange(1, 8)):
            lines.append(rng.choice(BRUTE).format(pid=rng.randrange(1000, 60000), ip=rng.randrange(1, 254),
                                                  port=rng.randrange(30000, 65000)))
    for incident in incidents:
        if incident.service == LOG and incident.host == host and incident.start == minute:
            lines.append("kernel: blk_update_request: I/O error, dev sdb, sector 2048 op 0x0:(READ)")
    return lines


def run(hosts: int, days: int, seed: int) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="wk-noise-"))
    try:
        return _replay(hosts, days, seed, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)  # the week's store is only needed while counting


def _replay(hosts: int, days: int, seed: int, workdir: Path) -> dict[str, Any]:
    rng = random.Random(seed)
    spans, incidents, reboots, services = build(hosts, days, rng)
    active: dict[int, list[tuple[tuple[str, str], int, int, str]]] = defaultdict(list)
    for key, intervals in spans.items():
        for start, end, state, summary in intervals:
            for minute in range(start, end):
                active[minute].append((key, state, start, summary))
    anything, rules = agent._log_rules({"rules": AUTH_RULES})  # type: ignore[no-untyped-call]
    assert anything is not None
    store = Store(workdir / "watchkeeper.db")
    tables = NotifyTables(store)
    for name in services:
        store.add_host(HostConfig(name, "local"))
    tables.seed_defaults()
    tables.add_downtime(Downtime(0, "*", None, START, float("inf"), "sun 02:00-04:00", "UTC", "ops",
                                 "weekly maintenance: kernel updates and reboots"))
    now = START
    notifier = Notifier(tables, clock=lambda: now)
    policy = AlertPolicy()
    log_stores: dict[str, ValueStore] = {name: {} for name in services}
    naive_results = naive_changes = results = 0
    last_state: dict[tuple[str, str], int] = {}
    hard_at: dict[tuple[str, str], float] = {}
    incident_keys = {(i.host, i.service): i for i in incidents}
    started = time.perf_counter()
    for minute in range(days * 1440):
        now = START + minute * MINUTE
        overrides = {key: (state, summary) for key, state, _, summary in active.get(minute, [])}
        for name, names in services.items():
            reboot = reboots.get(name)
            down = (reboot is not None and reboot[0] <= minute < reboot[1]) or any(
                i.host == name and not i.service and i.start <= minute < i.end for i in incidents)
            outcomes = []
            for service in names:
                if service == LOG:
                    text = "".join(line + "\n" for line in auth_lines(rng, minute, name, incidents)).encode()
                    found = agent.LogFindings(500)  # type: ignore[no-untyped-call]
                    agent._classify(text, anything, rules, found)  # type: ignore[no-untyped-call]
                    section = parse_logwatch([["[[[/var/log/auth.log]]]"]] + [[line] for line in found.lines])
                    outcome = collapse(service, check_logwatch("/var/log/auth.log", LogwatchParams(), section,
                                                               log_stores[name], now))
                    state, summary = outcome.state, outcome.summary
                else:
                    state, summary = overrides.get((name, service), (OK, _nothing(service, minute)))
                outcomes.append(Outcome(service, state, summary, stale=down))
            results += len(outcomes) + 1
            for outcome in outcomes:
                shown = 3 if outcome.stale else outcome.state
                naive_results += shown != OK
                key = (name, outcome.name)
                naive_changes += shown != OK and last_state.get(key, OK) != shown
                last_state[key] = shown
            naive_results += down
            notifier.observe(HostCycle(name, now, not down, "no route to host" if down else "", outcomes), policy)
            for key in ((name, ""), *((name, o.name) for o in outcomes)):
                tracked = notifier.tracked.get(key)
                if key in incident_keys and key not in hard_at and tracked and tracked.alert.hard != OK \
                        and tracked.alert.hard_since >= START + incident_keys[key].start * MINUTE:
                    hard_at[key] = tracked.alert.hard_since
        notifier.tick(now)
    now += 2 * 86400  # let the last bulk windows and digests come due
    notifier.tick(now)
    seconds = time.perf_counter() - started
    messages = [row for row in tables.log(1_000_000) if row.status == "pending"]
    first_told: dict[tuple[str, str], float] = {}
    for row in reversed(messages):  # oldest first
        for event in row.body["events"]:
            key = (event["host"], event["service"])
            if event["state"] != OK and key not in first_told and key in hard_at and event["ts"] >= hard_at[key]:
                first_told[key] = row.created
    report: list[dict[str, Any]] = []
    in_time = 0
    for incident in incidents:
        key = (incident.host, incident.service)
        told = first_told.get(key)
        hard = hard_at.get(key)
        minutes = round((told - hard) / 60, 1) if told is not None and hard is not None else None
        in_time += minutes is not None and minutes <= 5
        report.append({"incident": incident.name, "host": incident.host, "service": incident.service or "(host)",
                       "notified": told is not None, "minutes_hard_to_notification": minutes})
    digests = sum(1 for row in messages if row.body.get("digest"))
    store.close()
    return {
        "hosts": hosts, "days": days, "seed": seed, "results_checked": results,
        "naive_notifications_one_per_non_ok_result": naive_results,
        "naive_notifications_one_per_change_to_non_ok": naive_changes,
        "watchkeeper_notifications": len(messages), "of_which_daily_digests": digests,
        "percent_of_naive_per_result": round(100 * len(messages) / max(naive_results, 1), 3),
        "percent_of_naive_per_change": round(100 * len(messages) / max(naive_changes, 1), 2),
        "incidents": len(incidents), "incidents_notified_within_5_min": in_time, "incident_report": report,
        "events_by_kind": _kinds(messages), "subjects": _subject_counts(messages),
        "replay_seconds": round(seconds, 1),
    }


def fresh_install(seed: int) -> dict[str, Any]:
    """A first day on a new 30 GiB root filesystem at 28 %: 3 GiB written by the installer in its
    first ten minutes, 1.5 GiB of apt's cache cleaned after three hours, a log growing 40 MiB an
    hour with noise, checked every minute; every result goes through the notifier."""
    rng = random.Random(seed)
    workdir = Path(tempfile.mkdtemp(prefix="wk-noise-"))
    try:
        store = Store(workdir / "watchkeeper.db")
        tables = NotifyTables(store)
        store.add_host(HostConfig("new1", "local"))
        tables.seed_defaults()
        now = START
        notifier = Notifier(tables, clock=lambda: now)
        policy = AlertPolicy()
        size, used = 30 * 2**30, 0.28 * 30 * 2**30
        values: ValueStore = {}
        states: dict[int, int] = defaultdict(int)
        first_forecast = None
        for minute in range(1440):
            now = START + minute * MINUTE
            used += 0.3 * 2**30 if minute < 10 else 40 * 2**20 / 60 + rng.uniform(-2, 2) * 2**20
            if minute == 180:
                used -= 1.5 * 2**30
            fs = {"/": Filesystem("/dev/vda1", "ext4", size, int(used), size - int(used))}
            outcome = collapse("Filesystem /", check_space("/", SpaceParams(), fs, values, now))
            states[outcome.state] += 1
            if first_forecast is None and "full in" in outcome.summary:
                first_forecast = {"minute": minute, "summary": outcome.summary}
            notifier.observe(HostCycle("new1", now, True, "", [outcome]), policy)
            notifier.tick(now)
        now += 2 * 86400
        notifier.tick(now)
        messages = [row for row in tables.log(1_000_000) if row.status == "pending"]
        store.close()
        return {"minutes": 1440, "results_by_state": dict(states), "problem_notifications": len(messages),
                "first_time_until_full": first_forecast}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _nothing(service: str, minute: int) -> str:
    """The daily churn of outputs that say nothing happened."""
    return {"Uptime": f"up {minute // 1440} days {minute % 1440 // 60} hours",
            "Filesystem /": f"{41 + (minute // 300) % 3}% used, growing 0.1%/day",
            "APT updates": "no updates pending", "Memory": f"RAM used: {30 + minute % 7}%",
            "Reboot needed": "no reboot needed; running the newest installed kernel 6.1.0-27-amd64",
            "Unmerged configuration": "nothing left unmerged in 1345 files",
            "Mail queue": f"exim queue: {minute % 3} messages", "SSH keys root": "2 keys as accepted",
            "Time sync": f"chrony synchronised, offset {minute % 5} ms"}.get(
        service, "no hardware failed today")


def _kinds(messages: list[Any]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for row in messages:
        for event in row.body["events"]:
            counts[("digest " if row.body.get("digest") else "") + event["kind"]] += 1
    return dict(counts)


def _subject_counts(messages: list[Any]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for row in messages:
        counts[re.sub(r"\d+", "N", row.body["subject"])[:80]] += 1
    return dict(sorted(counts.items(), key=lambda item: -item[1])[:15])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--hosts", type=int, default=75)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    json.dump({**run(args.hosts, args.days, args.seed), "fresh_install": fresh_install(args.seed)}, sys.stdout,
              indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
