"""MRPE results from the real Checkmk agent running real Debian Nagios plugins: each exit code
becomes its state, a plugin that is missing or exits with no Nagios state is UNKNOWN with the
reason, a cached entry goes stale, multi-line output keeps its lines, perfdata becomes metrics."""

from __future__ import annotations

from tests.conftest import fixtures, outcomes, results
from watchkeeper.checkapi import Metric, NoParams, State
from watchkeeper.collect.sections import split_sections
from watchkeeper.model.cycles import AGENT_SERVICE
from watchkeeper.plugins.mrpe.mrpe import MrpeSection, check_mrpe, parse_mrpe

RAW = (fixtures(__file__) / "checkmk_agent" / "agent_2.3.0b1_mrpe_cases.txt").read_bytes()
CACHED_AT = 1796026059.0


def section() -> MrpeSection:
    parsed = parse_mrpe(split_sections(RAW).sections["mrpe"])
    assert parsed is not None
    return parsed


def test_every_entry_of_the_real_mrpe_cfg_is_a_service_with_the_plugins_verdict() -> None:
    seen = outcomes(RAW, now=CACHED_AT + 10)
    expected = {"Load": State.OK, "Users": State.OK, "Procs_verbose": State.OK, "Disk_misused": State.UNKNOWN,
                "Ssh_local": State.CRIT, "No_such_plugin": State.UNKNOWN, "Exit_four": State.UNKNOWN,
                "Two words": State.WARN, "Slow": State.OK}
    assert {name: seen[name].state for name in expected} == expected
    assert seen["Ssh_local"].summary .startswith("connect to address 127.0.0.1 and port 1: Connection refused")
    assert seen["No_such_plugin"].summary.startswith("check_does_not_exist was not found on the host (exit code 127)")
    assert seen["Exit_four"].summary.startswith("sh exited with 4, which is no Nagios state: out of range")
    assert seen[AGENT_SERVICE].state == State.OK


def test_multi_line_output_keeps_its_lines_and_the_perfdata_of_the_last_one() -> None:
    output = list(check_mrpe("Procs_verbose", NoParams(), section(), {}, CACHED_AT))
    verdict = results(output)[0]
    assert verdict.summary.startswith("CMD: /bin/ps axwwo")  # the first line, as Nagios shows it
    assert "PROCS OK: 1 process with command name 'zfs-fuse'" in verdict.details
    assert [m.name for m in output if isinstance(m, Metric)] == ["procs"]


def test_load_perfdata_becomes_metrics_with_levels() -> None:
    metrics = {m.name: m for m in check_mrpe("Load", NoParams(), section(), {}, CACHED_AT) if isinstance(m, Metric)}
    assert set(metrics) == {"load1", "load5", "load15"}
    assert metrics["load1"].levels == (8.0, 16.0)


def test_a_cached_entry_older_than_two_intervals_is_stale() -> None:
    fresh = results(check_mrpe("Slow", NoParams(), section(), {}, CACHED_AT + 590))
    stale = results(check_mrpe("Slow", NoParams(), section(), {}, CACHED_AT + 610))
    assert fresh[0].state == State.OK
    assert stale[0].state == State.UNKNOWN and stale[0].summary.startswith("stale: the agent's cached result is 610 s")


def test_an_entry_no_longer_sent_is_unknown_and_a_line_of_another_shape_is_named() -> None:
    gone = results(check_mrpe("Removed", NoParams(), section(), {}, CACHED_AT))
    assert gone[0].state == State.UNKNOWN and "no longer runs 'Removed'" in gone[0].summary
    seen = outcomes(RAW + b"<<<mrpe>>>\nLoad 0 no plugin in brackets\n", now=CACHED_AT)
    assert seen[AGENT_SERVICE].state == State.WARN
    assert "<<<mrpe>>>: 1 line not understood, the first: not `(plugin) NAME EXIT_CODE OUTPUT`" \
           in seen[AGENT_SERVICE].summary
