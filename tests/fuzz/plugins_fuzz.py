"""A fuzz target for every section parser and every check: real outputs, mutated.

    .venv/bin/python -m tests.fuzz.plugins_fuzz --inputs 1000000 --seed 7

Each input is one real section (from the agent outputs in tests/agent_outputs and the real
command outputs in tests/plugins/*/fixtures) with one or more mutations of the shapes that
have broken parsers before: integers of thousands of digits, numbers at the edges of 64 bits,
deeply nested JSON, very long lines, dropped, doubled and cut lines, and random bytes. The
mutated section goes through the production splitter, its parser, and then discovery and
the check of every plugin that reads it, twice (so counters see a second sample). Any
exception is a crash; it is reported with the input that caused it, written to a file.

The run is deterministic for a seed; the CI runs a fixed number of inputs.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from watchkeeper.checkapi import build_params
from watchkeeper.collect.sections import split_sections
from watchkeeper.engine.catalog import Catalog, builtin_catalog

TESTS = Path(__file__).resolve().parents[1]

# tool folder of a fixture -> (section header, marker line before the body, body as one JSON line)
FIXTURE_SECTIONS: dict[str, tuple[str, str, bool]] = {
    "proc_meminfo": ("mem", "", False),
    "proc_loadavg": ("cpu", "", False),
    "proc_stat": ("kernel", "", False),
    "df_PTk": ("df", "", False),
    "df_PTi": ("df", "[df_inodes_start]", False),
    "proc_mounts": ("mounts", "", False),
    "proc_diskstats": ("diskstat", "", False),
    "proc_net_dev": ("lnx_if:sep(58)", "", False),
    "uptime": ("uptime", "", False),
    "lsblk_json": ("lsblk:sep(0)", "", False),
    "mdstat": ("mdstat:sep(0)", "", False),
    "zpool_status": ("zfs:sep(0)", "[zpool status]", False),
    "zpool_list": ("zfs:sep(0)", "[zpool list]", False),
    "zfs_get": ("zfs:sep(0)", "[zfs get]", False),
    "zpool_status_json": ("zfs:sep(0)", "[zpool status]", False),
    "lvm_lvs": ("lvm:sep(0)", "", True),
    "lvm_vgs": ("lvm:sep(0)", "", True),
    "lvm_pvs": ("lvm:sep(0)", "", True),
    "megacli_bbu": ("megaraid:sep(0)", "[megacli bbu]", False),
    "megacli_ldinfo": ("megaraid:sep(0)", "[megacli ldinfo]", False),
    "megacli_ldpdinfo": ("megaraid:sep(0)", "[megacli ldpdinfo]", False),
    "megacli_pdlist": ("megaraid:sep(0)", "[megacli pdlist]", False),
    "storcli_json": ("megaraid:sep(0)", "[storcli json]", True),
    "storcli_show_all": ("megaraid:sep(0)", "[storcli text]", False),
    "smartctl": ("smart:sep(0)", "[device /dev/sdz auto]", False),
    "smartctl_json": ("smart:sep(0)", "[device /dev/sdz auto]", True),
    "ceph_status_json": ("ceph_status:sep(0)", "", True),
    "ceph_df_json": ("ceph_df:sep(0)", "", True),
    "docker_container_cpu_cgroupv2": ("docker_container_cpu_cgroupv2", "", False),
    "docker_container_mem_cgroupv2": ("docker_container_mem_cgroupv2", "", False),
    "docker_container_diskstat_cgroupv2": ("docker_container_diskstat_cgroupv2", "", False),
    "chronyc_tracking": ("chrony", "", False),
    "ntpq_p": ("ntp", "", False),
    "timedatectl": ("timesyncd", "", False),
    "systemctl_all": ("systemd_units", "[all]", False),
    "checkmk_smart": ("smart", "", False),
    "needrestart_b": ("reboot_needed:sep(0)", "kernel_running 6.1.0-20-amd64", False),
    "apt_get_s_upgrade": ("apt:sep(0)", "", False),
    "lm_sensors": ("sensors:sep(0)", "[lm-sensors]", False),
    "dnf_check_update": ("dnf:sep(0)", "[check-update]", False),
    "yum_updateinfo_security": ("dnf:sep(0)", "[check-update]\nbash.x86_64 5.1.8-9.el9 baseos\n[security]", False),
    "ipmitool_sdr": ("sensors:sep(0)", "[ipmi]", False),
}


@dataclass(frozen=True, slots=True)
class Seed:
    origin: str
    header: str
    body: bytes


@dataclass(frozen=True, slots=True)
class Crash:
    where: str
    error: str
    origin: str
    data: bytes

    def key(self) -> str:
        """Crashes with the same place and exception type are one bug."""
        return f"{self.where}: {self.error.split(':')[0]}"


def seeds() -> list[Seed]:
    found: list[Seed] = []
    whole_outputs = [*sorted((TESTS / "agent_outputs").glob("*.txt")),
                     *(path for path in sorted(TESTS.glob("plugins/*/fixtures/*/*.txt"))
                       if path.read_bytes().startswith(b"<<<"))]  # captures of a section with its header
    for path in whole_outputs:
        header, body = "", b""
        for line in path.read_bytes().splitlines(keepends=True):
            if line.startswith(b"<<<") and not line.startswith(b"<<<<"):
                if header:
                    found.append(Seed(path.name, header, body))
                header, body = line.decode(errors="replace").strip()[3:-3], b""
            elif header:
                body += line
        if header:
            found.append(Seed(path.name, header, body))
    for path in sorted(TESTS.glob("plugins/*/fixtures/*/*.txt")):
        spec = FIXTURE_SECTIONS.get(path.parent.name)
        if spec is None:
            continue
        header, marker, one_line = spec
        body = path.read_bytes()
        if one_line:
            try:
                body = json.dumps(json.loads(body)).encode()
            except ValueError:
                pass
            if header.startswith("lvm"):
                body = path.parent.name.split("_")[1].encode() + b" " + body
        found.append(Seed(str(path.relative_to(TESTS)), header, (marker + "\n").encode() * bool(marker) + body + b"\n"))
    for path in sorted(TESTS.glob("plugins/moosefs/fixtures/samples/1-healthy/healthy_mfscli-*.txt")):
        found.append(Seed(str(path.relative_to(TESTS)), "moosefs:sep(9)",
                          b"watchkeeper:\tmaster\t127.0.0.1:19421\n" + path.read_bytes()))
    return found


_DIGITS = re.compile(rb"\d+")
EDGES = [b"18446744073709551616", b"9223372036854775808", b"-1", b"0", b"1e308", b"nan", b"inf", b"-0",
         b"4294967296", b"0x" + b"f" * 40, b"999999999999999999999999999999", b"1.2.3"]


def mutate(data: bytes, rng: random.Random) -> bytes:
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        data = rng.choice(_MUTATIONS)(data, rng)
    return data


def _huge_integer(data: bytes, rng: random.Random) -> bytes:
    spans = [m.span() for m in _DIGITS.finditer(data)]
    if not spans:
        return data + b" " + b"9" * rng.randint(4300, 6000)
    start, end = rng.choice(spans)
    return data[:start] + b"1" + b"0" * rng.randint(4300, 6000) + data[end:]


def _edge_number(data: bytes, rng: random.Random) -> bytes:
    spans = [m.span() for m in _DIGITS.finditer(data)]
    if not spans:
        return data
    start, end = rng.choice(spans)
    return data[:start] + rng.choice(EDGES) + data[end:]


def _deep_nesting(data: bytes, rng: random.Random) -> bytes:
    depth = rng.randint(1000, 100_000)
    opener, closer = rng.choice(((b"[", b"]"), (b'{"a":', b"}")))
    nested = opener * depth + b"1" + closer * depth
    lines = data.split(b"\n")
    index = rng.randrange(len(lines))
    if rng.random() < 0.5 and lines[index].lstrip().startswith((b"{", b"[")):
        lines[index] = nested
    else:
        lines.insert(index, nested)
    return b"\n".join(lines)


def _long_line(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    index = rng.randrange(len(lines))
    unit = rng.choice((b"9", b"a", b" ", b"\t", b"[=>", b"scan: ", b"(F)", b"%", b"x:"))
    lines[index] = lines[index] + unit * rng.randint(10_000, 60_000)
    return b"\n".join(lines)


def _lines(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    if not lines:
        return data
    index = rng.randrange(len(lines))
    choice = rng.randrange(4)
    if choice == 0:
        del lines[index]
    elif choice == 1:
        lines.insert(index, lines[index])
    elif choice == 2:
        return b"\n".join(lines[:index])
    else:
        lines[index] = lines[index][: rng.randint(0, len(lines[index]))]
    return b"\n".join(lines)


def _bytes(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return bytes(rng.randrange(256) for _ in range(8))
    buffer = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        buffer[rng.randrange(len(buffer))] = rng.randrange(256)
    return bytes(buffer)


def _tokens(data: bytes, rng: random.Random) -> bytes:
    words = data.split(b" ")
    if len(words) < 2:
        return data
    first, second = rng.randrange(len(words)), rng.randrange(len(words))
    words[first], words[second] = words[second], words[first]
    return b" ".join(words)


_MUTATIONS = (_huge_integer, _edge_number, _edge_number, _deep_nesting, _long_line, _lines, _lines, _bytes,
              _tokens)


def run_one(catalog: Catalog, seed: Seed, data: bytes) -> list[Crash]:
    raw = f"<<<{seed.header}>>>\n".encode() + data
    crashes: list[Crash] = []
    try:
        split = split_sections(raw)
    except Exception as exc:
        return [Crash("split_sections", _describe(exc), seed.origin, raw)]
    name = seed.header.split(":")[0]
    for agent_section in catalog.sections:
        if agent_section.name != name and name not in agent_section.companions:
            continue
        table = split.sections.get(agent_section.name)
        if table is None:
            continue
        try:
            parsed = agent_section.parse(table)
        except Exception as exc:
            if type(exc).__name__ == "SectionUnparsed":
                continue
            crashes.append(Crash(f"parse {agent_section.name}", _describe(exc), seed.origin, raw))
            continue
        if parsed is None:
            continue
        crashes.extend(_check_all(catalog, agent_section.produces, parsed, seed, raw))
    return crashes


def _check_all(catalog: Catalog, produces: str, parsed: Any, seed: Seed, raw: bytes) -> Iterator[Crash]:
    for plugin in catalog.plugins:
        if plugin.section != produces:
            continue
        items: list[tuple[str, dict[str, Any]]] = [("x", {})]
        try:
            items += [(service.item, dict(service.facts)) for service in plugin.discover(parsed)]
        except Exception as exc:
            yield Crash(f"discover {plugin.name}", _describe(exc), seed.origin, raw)
        for item, facts in items[:20]:
            store: dict[str, Any] = {}
            try:
                params = build_params(plugin.default_params, facts)
                for now in (1_000_000.0, 1_000_060.0):
                    list(plugin.check(item, params, parsed, store, now))
            except Exception as exc:
                yield Crash(f"check {plugin.name}", _describe(exc), seed.origin, raw)


def _describe(exc: BaseException) -> str:
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    place = f" at {Path(where.filename).name}:{where.lineno}" if where else ""
    return f"{type(exc).__name__}{place}: {str(exc)[:200]}"


def fuzz(inputs: int, seed: int = 1, deadline_s: float | None = None) -> tuple[int, dict[str, Crash]]:
    """Run `inputs` mutated sections; the distinct crashes found, by place and exception type."""
    rng = random.Random(seed)
    catalog = builtin_catalog()
    pool = seeds()
    found: dict[str, Crash] = {}
    started = time.monotonic()
    done = 0
    while done < inputs:
        chosen = rng.choice(pool)
        for crash in run_one(catalog, chosen, mutate(chosen.body, rng)):
            found.setdefault(crash.key(), crash)
        done += 1
        if deadline_s is not None and time.monotonic() - started > deadline_s:
            break
    return done, found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inputs", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=None, help="stop after this long")
    parser.add_argument("--crashes", type=Path, default=Path("fuzz-crashes"), help="where crashing inputs go")
    args = parser.parse_args(argv)
    started = time.monotonic()
    done, found = fuzz(args.inputs, args.seed, args.seconds)
    for index, crash in enumerate(found.values()):
        args.crashes.mkdir(exist_ok=True)
        (args.crashes / f"crash-{index}.txt").write_bytes(crash.data)
        print(f"{crash.key()}\n    {crash.error}\n    from {crash.origin}, input in {args.crashes}/crash-{index}.txt")
    print(json.dumps({"inputs": done, "seconds": round(time.monotonic() - started, 1), "crashes": len(found)}))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
