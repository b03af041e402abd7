"""SNMP benchmark: one cycle over many simulated switches, against Net-SNMP's snmpbulkwalk. Prints JSON.

    python bench/snmp.py --devices 200

Each device is snmpsim (started on loopback, one process) serving the IF-MIB tables of a real
48-port switch recording (the Arista DCS-7150S in tests/plugins/snmp/fixtures/recordings),
under its own community. Watchkeeper fetches every device's interface section (ifTable,
ifXTable, ifStackTable, sysUpTime) through `SnmpTransport` with up to `--concurrency` devices at
once, as the scheduler does; the peer is `snmpbulkwalk` (Net-SNMP, Debian package snmp) of
ifTable and ifXTable per device, as many processes at once. Figures: wall time of the cycle,
and CPU seconds on this side per 1,000 interfaces (our process for Watchkeeper, the children
for snmpbulkwalk; snmpsim's own CPU is the same agent for both and not counted).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.labs.snmp import SNMPSIM_AS_IS, answers, free_udp_port  # noqa: E402
from watchkeeper.collect.snmp import SnmpCredentials, SnmpTransport  # noqa: E402
from watchkeeper.plugins.snmp.interfaces import parse_snmp_interfaces, snmp_interfaces_section  # noqa: E402

RECORDING = REPO / "tests/plugins/snmp/fixtures/recordings/arista-dcs-7150s-52-cl.snmprec"
IF_MIB = ("1.3.6.1.2.1.1.", "1.3.6.1.2.1.2.2.1.", "1.3.6.1.2.1.31.1.1.1.", "1.3.6.1.2.1.31.1.2.1.")


def start_snmpsim(directory: Path, devices: int) -> tuple[subprocess.Popen[bytes], int]:
    data, cache = directory / "data", directory / "cache"
    data.mkdir()
    cache.mkdir()
    lines = [line for line in RECORDING.read_text().splitlines() if line.startswith(IF_MIB)]
    for number in range(devices):
        (data / f"sw{number}.snmprec").write_text("\n".join(lines) + "\n")
    port = free_udp_port()
    process = subprocess.Popen([sys.executable, "-c", SNMPSIM_AS_IS, f"--data-dir={data}", f"--cache-dir={cache}",
                                "--log-level=error", "--logging-method=null",
                                f"--agent-udpv4-endpoint=127.0.0.1:{port}"], cwd=REPO)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and process.poll() is None:
        if answers(port, "sw0") and answers(port, f"sw{devices - 1}"):
            return process, port
        time.sleep(0.2)  # waiting for the simulator to index its recordings
    process.kill()
    raise SystemExit("snmpsim did not start")


async def watchkeeper_cycle(port: int, devices: int, concurrency: int) -> tuple[float, float, int]:
    transports = [SnmpTransport(f"sw{n}", "127.0.0.1", port, SnmpCredentials(community=f"sw{n}"),
                                (snmp_interfaces_section,), timeout_s=120) for n in range(devices)]
    gate = asyncio.Semaphore(concurrency)
    interfaces = 0

    async def one(transport: SnmpTransport) -> int:
        async with gate:
            output = await transport.fetch()
        table = [line.split("\t") for line in output.data.decode().splitlines() if line[:1].isdigit()]
        parsed = parse_snmp_interfaces(table)
        return len(parsed.by_name) if parsed else 0

    cpu, wall = time.process_time(), time.perf_counter()
    interfaces = sum(await asyncio.gather(*(one(transport) for transport in transports)))
    return time.perf_counter() - wall, time.process_time() - cpu, interfaces


def bulkwalk_cycle(port: int, devices: int, concurrency: int) -> tuple[float, float]:
    walk = shutil.which("snmpbulkwalk")
    if walk is None:
        raise SystemExit("snmpbulkwalk is missing (Debian package snmp)")
    commands = [[walk, "-v2c", "-c", f"sw{n}", "-Cr25", "-On", "-t", "60", f"127.0.0.1:{port}", table]
                for n in range(devices) for table in ("1.3.6.1.2.1.2.2.1", "1.3.6.1.2.1.31.1.1.1")]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    running: list[subprocess.Popen[bytes]] = []
    for command in commands:
        if len(running) >= concurrency:
            running.pop(0).wait()
        running.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, env={**os.environ, "MIBS": ""}))
    for process in running:
        process.wait()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return time.perf_counter() - wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="watchkeeper-bench-snmp-"))
    process = None
    try:
        process, port = start_snmpsim(directory, args.devices)
        wall, cpu, interfaces = asyncio.run(watchkeeper_cycle(port, args.devices, args.concurrency))
        peer_wall, peer_cpu = bulkwalk_cycle(port, args.devices, args.concurrency)
        per_k = 1000.0 / max(interfaces, 1)
        print(json.dumps({
            "devices": args.devices, "interfaces": interfaces, "concurrency": args.concurrency,
            "watchkeeper": {"cycle_seconds": round(wall, 2), "cpu_seconds": round(cpu, 3),
                            "cpu_seconds_per_1000_interfaces": round(cpu * per_k, 4)},
            "snmpbulkwalk": {"cycle_seconds": round(peer_wall, 2), "cpu_seconds": round(peer_cpu, 3),
                             "cpu_seconds_per_1000_interfaces": round(peer_cpu * per_k, 4)},
        }, indent=2))
    finally:
        if process is not None:
            process.kill()
            process.wait()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
