"""Inventory benchmark: hypervisors' domains becoming hosts. Prints JSON.

    python bench/inventory.py --hypervisors 200 --domains 50

One hypervisor's output is made by the agent's libvirt collector against libvirt's test
driver (a node of `--domains` domains: real virsh text), then copied for each hypervisor with
its own domain names and UUIDs. Timed, wall and CPU seconds each:

- `hypervisor_cycles`: every hypervisor's cycle as the engine runs it (split, parse, check,
  and each domain derived as piggyback data), and `derive` alone;
- `record_first` / `record_steady`: the scheduler keeping the piggyback data and recording
  which hosts each output speaks of (written once, then compared only);
- `sync_first`: one inventory sync that makes every domain a host, in one transaction;
  `sync_steady`: one that finds nothing to change; `sync_churn`: after 1 % of the domains
  went and as many new ones came (record + sync: retire and create);
- `reload`: the scheduler taking in the new hosts;
- `vm_cycles`: every domain's host checked from its piggyback data (services per second).

The peer is what a script pays that makes the same hosts through the store's `add_host`, one
host per transaction (as one `watchkeeper host add` or one API call each).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.labs.libvirt import LabDomain, collect, write_node  # noqa: E402
from watchkeeper.collect.transport import AgentOutput  # noqa: E402
from watchkeeper.engine.catalog import builtin_catalog  # noqa: E402
from watchkeeper.engine.cycle import run_host_cycle  # noqa: E402
from watchkeeper.inventory.sync import sync  # noqa: E402
from watchkeeper.model.hosts import HostConfig  # noqa: E402
from watchkeeper.model.inventory import InventorySource  # noqa: E402
from watchkeeper.paths import Paths  # noqa: E402
from watchkeeper.plugins.hypervisors.node import domains_as_hosts  # noqa: E402
from watchkeeper.schedule.scheduler import Scheduler  # noqa: E402
from watchkeeper.store.database import Store  # noqa: E402
from watchkeeper.store.inventory_tables import InventoryTables  # noqa: E402

GIB_KIB = 1024**2
NOW = 1_796_025_000.0


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Timed:
    def __init__(self, figures: dict[str, dict[str, float]], name: str) -> None:
        self.figures, self.name = figures, name

    def __enter__(self) -> None:
        self.started, self.cpu = time.monotonic(), cpu()

    def __exit__(self, *_: object) -> None:
        self.figures[self.name] = {"wall_s": round(time.monotonic() - self.started, 3),
                                   "cpu_s": round(cpu() - self.cpu, 3)}


def template(directory: Path, domains: int) -> str:
    """One hypervisor's output from the real collector and test driver, names to be replaced."""
    lab = [LabDomain(f"dom-{n:03d}", vcpus=2, memory_kib=2 * GIB_KIB, uuid=f"00000000-0000-4000-8000-{n:012d}")
           for n in range(domains)]
    uri = write_node(directory / "node.xml", cpus=64, memory_kib=512 * GIB_KIB, domains=lab)
    return collect(uri).decode()


def hypervisor_output(text: str, index: int) -> bytes:
    text = re.sub(r"dom-(\d{3})", lambda m: f"vm-{index:03d}-{m.group(1)}", text)
    return re.sub(r"00000000-0000-4000-8000-0000000(\d{5})",
                  lambda m: str(uuid.UUID(int=index * 100_000 + int(m.group(1)))), text).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hypervisors", type=int, default=200)
    parser.add_argument("--domains", type=int, default=50)
    args = parser.parse_args()
    figures: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="watchkeeper-bench-") as name:
        directory = Path(name)
        text = template(directory, args.domains)
        outputs = {f"hyp{n:03d}": hypervisor_output(text, n) for n in range(args.hypervisors)}
        catalog = builtin_catalog()

        results = {}
        with Timed(figures, "hypervisor_cycles"):
            for host, raw in outputs.items():
                results[host] = run_host_cycle(host, AgentOutput(raw), [], [], {}, NOW, catalog=catalog)
        nodes = [result.parsed.sections["hypervisor"] for result in results.values() if result.parsed]
        with Timed(figures, "derive"):
            for node in nodes:
                domains_as_hosts(node)
        vms = sum(len(result.piggyback or {}) for result in results.values())
        assert vms == args.hypervisors * args.domains, f"{vms} domains became piggyback data"

        store = Store(directory / "wk.db")
        for host in outputs:
            store.add_host(HostConfig(host, "none"))
        InventoryTables(store).add_source(InventorySource("vms", "piggyback", source_hosts="hyp*"))
        scheduler = Scheduler(store, Paths(directory / "home"), clock=lambda: NOW)
        asyncio.run(scheduler.reload())  # the hypervisors
        for label in ("record_first", "record_steady"):
            with Timed(figures, label):
                for host, result in results.items():
                    scheduler._piggyback_arrived(host, NOW, result.piggyback or {}, 60.0)
        with Timed(figures, "sync_first"):
            [report] = sync(store, NOW)
        created = sum(1 for change in report.changes if change.action == "create")
        with Timed(figures, "sync_steady"):
            [steady] = sync(store, NOW + 30)
        assert not steady.changes

        churn = max(1, vms // 100)
        per_hypervisor = -(-churn // args.hypervisors)
        gone = 0
        with Timed(figures, "sync_churn"):
            for host, result in results.items():
                data = dict(result.piggyback or {})
                for target in list(data)[:min(per_hypervisor, churn - gone)]:
                    data[target.replace("vm-", "new-")] = data.pop(target)
                    gone += 1
                scheduler._piggyback_arrived(host, NOW + 60, data, 60.0)
            [churned] = sync(store, NOW + 60)
        actions = sorted({change.action for change in churned.changes})

        with Timed(figures, "reload"):
            asyncio.run(scheduler.reload())
        piggybacked = [name for name, runtime in scheduler.hosts.items() if runtime.config.uri == "piggyback"]

        checked = []  # each VM host's data and its services, discovered as the daemon does on first contact
        for host in piggybacked:
            said = scheduler.piggyback.output(host, 1e9)
            if said is not None:
                output = AgentOutput(said.encode())
                found = run_host_cycle(host, output, [], [], {}, NOW, catalog=catalog).discovered or []
                checked.append((host, output, found))
        services = 0
        with Timed(figures, "vm_cycles"):
            for host, output, specs in checked:
                services += len(run_host_cycle(host, output, specs, [], {}, NOW + 60, catalog=catalog).cycle.outcomes)
        figures["vm_cycles"]["services_per_s"] = round(services / max(figures["vm_cycles"]["cpu_s"], 1e-9))

        peer_store = Store(directory / "peer.db")
        with Timed(figures, "peer_add_host_each"):
            for change in report.changes:
                if change.config is not None:
                    peer_store.add_host(change.config)

    print(json.dumps({"hypervisors": args.hypervisors, "domains_per_hypervisor": args.domains,
                      "hosts_created": created, "churn": {"domains_moved": gone, "actions": actions},
                      "vm_hosts_checked": len(piggybacked), "figures": figures,
                      "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}, indent=2))


if __name__ == "__main__":
    main()
