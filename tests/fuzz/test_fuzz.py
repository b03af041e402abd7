"""Every parser and every check survives hostile input: the mutation fuzzer over real outputs
(a fixed number of inputs here; run `python -m tests.fuzz.plugins_fuzz` for as long as you
like), and a property test per agent section with generated hostile shapes."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.plugins_fuzz import Seed, fuzz, run_one, seeds
from watchkeeper.engine.catalog import builtin_catalog

CATALOG = builtin_catalog()
SECTION_HEADERS = sorted({f"{s.name}{':sep(0)' if sep else ''}" for s in CATALOG.sections for sep in (False, True)}
                         | {f"{companion}" for s in CATALOG.sections for companion in s.companions})


@pytest.mark.slow
def test_the_fuzzer_finds_no_crash_in_mutated_real_outputs() -> None:
    inputs = int(os.environ.get("WATCHKEEPER_FUZZ_INPUTS", "20000"))
    done, crashes = fuzz(inputs, seed=int(os.environ.get("WATCHKEEPER_FUZZ_SEED", "1")))
    assert done == inputs
    assert not crashes, "\n".join(f"{c.key()}: {c.error} (from {c.origin})" for c in crashes.values())


def test_the_fuzzer_has_a_real_output_for_every_section_that_has_a_check() -> None:
    covered = {seed.header.split(":")[0] for seed in seeds()}
    read = {s.name for s in CATALOG.sections if any(p.section == s.produces for p in CATALOG.plugins)}
    assert read - covered == set()


huge_number = st.builds(lambda n: "1" + "0" * n, st.integers(4300, 6000))
edge_number = st.sampled_from(["18446744073709551616", "-1", "0", "1e308", "1e999", "nan", "-inf", "0x" + "f" * 30,
                               "9" * 40, "4294967296", "1.2.3", "-0"])
deep_json = st.builds(lambda n, o: (o[0] * n) + "1" + (o[1] * n), st.integers(500, 50_000),
                      st.sampled_from([("[", "]"), ('{"a":', "}")]))
long_line = st.builds(lambda unit, n: unit * n, st.sampled_from(["9", "x", " ", "\t", "%", "[=>", "scan: "]),
                      st.integers(5_000, 50_000))
word = st.one_of(st.text(max_size=12), huge_number, edge_number, st.sampled_from(
    ["[zpool status]", "[df_inodes_start]", "[[[/var/log/syslog]]]", "pool:", "state:", "md0", ":", "|", "%", "kB",
     "[mfiutil]", "[gmirror]", "[graid]", "[netstat]", "[ifconfig]", "[df]", "[inodes]", "[mounts]", "[swapinfo]",
     "made 1 1", "exit 1", "Name", "<Link#1>", "Geom name:", "kern.cp_time:", "vm.loadavg:", "(ACTIVE", "mfi0"]))
hostile_line = st.one_of(st.lists(word, max_size=12).map(" ".join), st.lists(word, max_size=8).map("\t".join),
                         deep_json, long_line)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(header=st.sampled_from(SECTION_HEADERS), lines=st.lists(hostile_line, max_size=8))
def test_every_section_parser_and_its_checks_survive_hostile_shapes(header: str, lines: list[str]) -> None:
    data = "\n".join(lines).encode(errors="replace") + b"\n"
    assert run_one(CATALOG, Seed("generated", header, data), data) == []
