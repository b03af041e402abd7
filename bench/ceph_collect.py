"""Ceph collection benchmark: what one agent run costs the host, asking `ceph` four times or
reading the mgr's `prometheus` module, beside a bare scrape of that module. Prints JSON.

    python bench/ceph_collect.py --runs 5

A real cluster from tests/labs/ceph.py (1 mon, 1 mgr, 3 BlueStore OSDs, a pool of 60 objects)
with the module on at its default 15 s `scrape_interval`. Each run is the agent's Ceph
collector alone in a fresh interpreter, as a real run starts it, 16 s after the one before so
that the module has gathered anew; the two ways alternate. Figures per run: CPU seconds of the
run (the interpreter and every `ceph` it started), wall time, CPU seconds the cluster's mon and
mgr spent meanwhile (a `ceph` call costs them too), and how many runs read the module; and the
interpreter started alone, which both ways include. The peer is what a Prometheus server pays
for the same scrape: one GET of /metrics, in process.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cpu_accounting import tree_cpu  # noqa: E402

from tests.labs.ceph import CephLab, unavailable  # noqa: E402

AGENT_DIR = REPO / "src" / "watchkeeper" / "agent"
COLLECTOR = ("import json, sys; sys.path.insert(0, sys.argv[1]); import watchkeeper_agent as agent; "
             "agent.CONFIG.update(json.loads(sys.argv[2])); out = []; agent.storage_ceph(out); "
             "print(json.dumps(out))")
START_ALONE = "import json, sys; sys.path.insert(0, sys.argv[1]); import watchkeeper_agent as agent; print([])"
SPACING_S = 16.0


def cluster_cpu(lab: CephLab) -> float:
    return sum(tree_cpu(lab.processes[name].pid) for name in ("mon.a", "mgr.x"))


def collect(lab: CephLab, config: dict[str, object], code: str = COLLECTOR) -> tuple[float, float, float, bool]:
    """(client CPU s, wall s, mon+mgr CPU s, read the module) of one run of the Ceph collector."""
    before, cluster_before, started = resource.getrusage(resource.RUSAGE_CHILDREN), cluster_cpu(lab), time.monotonic()
    done = subprocess.run([sys.executable, "-I", "-c", code, str(AGENT_DIR), json.dumps(config)],
                          capture_output=True, text=True, timeout=120, check=True)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    client = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return client, wall, cluster_cpu(lab) - cluster_before, "<<<ceph_status_metrics" in done.stdout


def scrape(url: str) -> tuple[float, int]:
    started = time.process_time()
    with urllib.request.urlopen(url + "metrics", timeout=10) as response:
        size = len(response.read())
    return time.process_time() - started, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    reason = unavailable()
    if reason is not None:
        sys.exit(f"needs {reason}")
    with CephLab.start(osds=3) as lab, tempfile.TemporaryDirectory() as state:
        lab.create_pool("data")
        lab.write_objects("data", 60)
        url = lab.enable_prometheus(15)
        base = {"args": lab.client_args, "timeout_s": 8}
        ways: dict[str, dict[str, object]] = {
            "ceph CLI (4 calls)": {"ceph": {**base, "prometheus": False}, "state_dir": state},
            "mgr module": {"ceph": base, "state_dir": state}}
        collect(lab, ways["mgr module"])  # the first look: the module's address and count kept
        figures: dict[str, list[tuple[float, float, float, bool]]] = {way: [] for way in ways}
        for _ in range(args.runs):
            for way, config in ways.items():
                time.sleep(SPACING_S / len(ways))  # a benchmark's pacing: the module gathers meanwhile
                figures[way].append(collect(lab, config))
        scrapes = [scrape(url) for _ in range(args.runs)]
        alone = [collect(lab, {}, START_ALONE) for _ in range(args.runs)]
    result: dict[str, object] = {"runs": args.runs, "osds": 3}
    for way, runs in figures.items():
        result[way] = {
            "client_cpu_s_per_run": round(sum(r[0] for r in runs) / len(runs), 4),
            "wall_s_per_run": round(sum(r[1] for r in runs) / len(runs), 3),
            "mon_mgr_cpu_s_per_run": round(sum(r[2] for r in runs) / len(runs), 4),
            "runs_that_read_the_module": sum(r[3] for r in runs),
        }
    result["the agent's interpreter started alone (in both figures above)"] = {
        "client_cpu_s_per_run": round(sum(r[0] for r in alone) / len(alone), 4)}
    result["bare scrape (a Prometheus server's side)"] = {
        "client_cpu_s_per_run": round(sum(s[0] for s in scrapes) / len(scrapes), 4),
        "bytes": scrapes[0][1],
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
