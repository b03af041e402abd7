"""Ceph recovery ETA benchmark: is the ETA `Ceph redundancy` gives met? Prints JSON.

    python bench/ceph_recovery_eta.py --objects 400 --sleep 0.1

A real cluster from tests/labs/ceph.py (1 mon, 1 mgr, 3 BlueStore OSDs): one OSD is stopped,
`--objects` objects of 4 KiB are written without it, the recovery is slowed to one operation
per `--sleep` seconds (`osd_recovery_sleep`) so that it lasts long enough to be watched, and
the OSD is started again. The agent and the check run back to back until every copy is back;
each check that gives an ETA is one sample: when it predicted the end (check time + ETA)
against when the end came (the first check that found every copy back). Figures: the error of
the predictions made in the first, second and last third of the recovery (median, and the
worst), in seconds and in percent of the time that was left; and the peer's answer: `ceph
status`'s own recovery figures have a rate but no ETA (`ceph -s` prints none), so there is
nothing to set beside ours but the rate itself.

A benchmark, not a test: an ETA is a statement about time, and the tests assert nothing
about time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.labs.agent_monitor import AgentMonitor  # noqa: E402
from tests.labs.ceph import CephLab, unavailable  # noqa: E402
from watchkeeper.plugins.ceph.health import ceph_redundancy  # noqa: E402


def thirds(samples: list[tuple[float, float]], started: float, ended: float) -> dict[str, object]:
    """Prediction errors by the third of the recovery they were made in."""
    figures: dict[str, object] = {}
    span = ended - started
    for index, name in enumerate(("first_third", "second_third", "last_third")):
        errors: list[tuple[float, float]] = [(predicted - ended, 100.0 * (predicted - ended) / max(ended - at, 1e-9))
                  for at, predicted in samples if index * span / 3 <= at - started < (index + 1) * span / 3]
        if errors:
            worst: float = max((e for e, _ in errors), key=abs)
            figures[name] = {
                "samples": len(errors),
                "median_error_s": round(statistics.median(e for e, _ in errors), 1),
                "median_error_percent_of_time_left": round(statistics.median(p for _, p in errors), 1),
                "worst_error_s": round(worst, 1),
            }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--objects", type=int, default=400)
    parser.add_argument("--sleep", type=float, default=0.1)
    args = parser.parse_args()
    reason = unavailable()
    if reason is not None:
        sys.exit(f"needs {reason}")
    with CephLab.start(osds=3) as lab, tempfile.TemporaryDirectory() as state:
        lab.create_pool("data")
        monitor = AgentMonitor(Path(state) / "agent.json", {
            "ceph": {"args": lab.client_args, "timeout_s": 8, "prometheus": False}, "state_dir": state})
        victim = lab.osd_ids[-1]
        lab.stop_osd(victim)
        lab.wait("the OSD down", lambda: lab.osds_up_in()[0] == 2, 60)
        lab.write_objects("data", args.objects, prefix="while-down")
        lab.ceph("config", "set", "osd", "osd_recovery_sleep", str(args.sleep))
        lab.start_osd(victim)
        samples: list[tuple[float, float]] = []
        rates: list[float] = []
        started = ended = 0.0
        deadline = time.monotonic() + 1800  # bounded: a recovery that never ends stops the bench
        while time.monotonic() < deadline:
            outcome = monitor.check(ceph_redundancy)
            now = time.monotonic()
            metrics = {metric.name: metric.value for metric in outcome.metrics}
            if metrics.get("ceph_recovery_eta_seconds"):
                started = started or now
                samples.append((now, now + metrics["ceph_recovery_eta_seconds"]))
                rates.append(metrics["ceph_recovering_objects_per_second"])
            elif outcome.state == 0 and lab.pgs_clean():
                ended = now
                break
        if not ended:
            sys.exit("the recovery did not end within 30 minutes")
        started = started or ended
    print(json.dumps({
        "objects_recovered": args.objects, "recovery_sleep_s": args.sleep,
        "recovery_seconds": round(ended - started, 1), "checks_with_an_eta": len(samples),
        "check_interval_s": round((ended - started) / max(len(samples), 1), 1),
        "median_rate_objects_per_second": round(statistics.median(rates), 2) if rates else None,
        **thirds(samples, started, ended),
    }, indent=2))


if __name__ == "__main__":
    main()
