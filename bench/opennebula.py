"""OpenNebula special agent benchmark: one fetch and check of a large cloud. Prints JSON.

    python bench/opennebula.py --hosts 200 --vms 10000

The replay frontend of tests/labs/opennebula.py on loopback (a process of its own, so that only
the reading side's CPU is counted), its pools grown from the real
documents (tests/plugins/opennebula/fixtures/corpus): the monitored host and the running VM
repeated with their own IDs and names, spread over the hosts. Figures: the XML-RPC answers'
size, wall and CPU seconds of the fetch (three calls, the XML reduced to JSON lines), then of
discovery and one check of every service, as the engine runs them; peak RSS. The peer is the
same pools read by `xmlrpc.client.ServerProxy` and parsed with ElementTree, and nothing more:
what any script against the API pays before it judges anything.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
import xmlrpc.client
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.labs.opennebula import CORPUS, OpenNebulaReplay  # noqa: E402
from watchkeeper.collect.opennebula import OpenNebulaTransport  # noqa: E402
from watchkeeper.collect.transport import AgentOutput  # noqa: E402
from watchkeeper.engine.cycle import run_host_cycle  # noqa: E402
from watchkeeper.engine.discovery import discover_in_output  # noqa: E402

SESSION = "oneadmin:bench"


def grow(frontend: OpenNebulaReplay, hosts: int, vms: int) -> None:
    found = re.search(r"<HOST>.*?</HOST>", (CORPUS / "hostpool_4hosts_2error.xml").read_text())
    assert found is not None, "the corpus host pool has no host"
    host = found.group(0)
    vm = (CORPUS / "vm60_running.xml").read_text().strip()
    frontend.hosts = "<HOST_POOL>" + "".join(
        host.replace("<ID>1</ID>", f"<ID>{n}</ID>", 1).replace("<NAME>hyp101</NAME>", f"<NAME>hyp{n:04d}</NAME>")
        for n in range(hosts)) + "</HOST_POOL>"
    frontend.vms = "<VM_POOL>" + "".join(
        vm.replace("<ID>60</ID>", f"<ID>{n}</ID>", 1).replace("testttylinux-60", f"vm-{n:05d}")
        .replace("<HOSTNAME>hyp101</HOSTNAME>", f"<HOSTNAME>hyp{n % hosts:04d}</HOSTNAME>")
        for n in range(vms)) + "</VM_POOL>"


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peer(url: str) -> dict[str, float]:
    started, before = time.monotonic(), cpu()
    proxy = xmlrpc.client.ServerProxy(url)
    for method, arguments in (("one.hostpool.info", ()), ("one.vmpool.info", (-2, -1, -1, -1)),
                              ("one.datastorepool.info", ())):
        _ok, document, _code = getattr(proxy, method)(SESSION, *arguments)
        ElementTree.fromstring(document)
    return {"wall_s": round(time.monotonic() - started, 3), "cpu_s": round(cpu() - before, 3)}


async def ours(url: str, login: Path) -> tuple[dict[str, float], bytes]:
    transport = OpenNebulaTransport("cloud", url, str(login), timeout_s=120, max_bytes=1 << 30)
    started, before = time.monotonic(), cpu()
    output = await transport.fetch()
    await transport.close()
    return {"wall_s": round(time.monotonic() - started, 3), "cpu_s": round(cpu() - before, 3)}, output.data


def serve(hosts: int, vms: int) -> None:
    """The frontend, in a process of its own so that its CPU is not counted: prints its address
    and the documents' size, and serves until its stdin closes."""
    with OpenNebulaReplay(SESSION) as frontend:
        grow(frontend, hosts, vms)
        print(frontend.url, len(frontend.hosts) + len(frontend.vms) + len(frontend.datastores), flush=True)
        sys.stdin.read()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--vms", type=int, default=10000)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.hosts, args.vms)
        return
    with tempfile.TemporaryDirectory() as directory, subprocess.Popen(
            [sys.executable, __file__, "--serve", "--hosts", str(args.hosts), "--vms", str(args.vms)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as server:
        assert server.stdout is not None and server.stdin is not None
        url, size = server.stdout.readline().split()
        login = Path(directory) / "one_auth"
        login.write_text(SESSION)
        answer_bytes = int(size)
        fetch, data = asyncio.run(ours(url, login))
        before = cpu()
        specs = discover_in_output(data)
        discovery_s = cpu() - before
        before = cpu()
        cycle = run_host_cycle("cloud", AgentOutput(data), specs, [], {}, time.time()).cycle
        check_s = cpu() - before
        result = {
            "hosts": args.hosts, "vms": args.vms, "documents_bytes": answer_bytes, "section_bytes": len(data),
            "fetch": fetch, "discovery_cpu_s": round(discovery_s, 3), "check_cpu_s": round(check_s, 3),
            "services": len(cycle.outcomes),
            "services_per_cpu_second": round(len(cycle.outcomes) / check_s) if check_s else None,
            "peer: ServerProxy + ElementTree, nothing judged": peer(url),
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
        server.stdin.close()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
