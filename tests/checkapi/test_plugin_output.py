"""Plugin output per the plugin guidelines: status line, long output, perfdata anywhere after
`|`, quoted labels, units; checked on what Debian's real plugins print and on the format's
edge cases."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.active.plugins import plugin
from watchkeeper.checkapi.plugin_output import PerfValue, parse_plugin_output, to_metrics

# The guidelines' own multi-line example: perfdata after the first line's '|', long output,
# then a later '|' after which every line is perfdata.
GUIDELINES_EXAMPLE = """DISK OK - free space: / 3326 MB (56%); | /=2643MB;5948;5958;0;5968
/ 15272 MB (77%);
/boot 68 MB (69%);
/home 69357 MB (27%);
/var/log 819 MB (84%); | /boot=68MB;88;93;0;98
/home=69357MB;253404;253409;0;253414
/var/log=818MB;970;975;0;980
"""


def run(argv: list[str]) -> tuple[int, str]:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    return done.returncode, done.stdout


def test_guidelines_example_splits_text_long_output_and_all_four_values() -> None:
    output = parse_plugin_output(GUIDELINES_EXAMPLE)
    assert output.summary == "DISK OK - free space: / 3326 MB (56%);"
    assert output.long_output.splitlines() == ["/ 15272 MB (77%);", "/boot 68 MB (69%);", "/home 69357 MB (27%);",
                                               "/var/log 819 MB (84%);"]
    assert [p.label for p in output.perfdata] == ["/", "/boot", "/home", "/var/log"]
    assert output.perfdata[1] == PerfValue("/boot", 68.0, "MB", "88", "93", 0.0, 98.0)
    assert not output.problems


def test_real_check_disk_perfdata_becomes_bytes_with_levels_and_size() -> None:
    code, text = run([plugin("check_disk"), "-w", "10%", "-c", "5%", "-p", "/"])
    output = parse_plugin_output(text)
    assert code == 0 and output.summary.startswith("DISK OK")
    (metric,) = to_metrics(output.perfdata)
    assert metric.name == "/_bytes"
    assert metric.boundaries is not None and metric.boundaries[1] is not None
    assert 0 < metric.value < metric.boundaries[1]  # used bytes of the root file system
    assert metric.levels is not None and metric.levels[0] < metric.levels[1] <= metric.boundaries[1]


def test_real_check_load_and_check_procs_give_their_values() -> None:
    _, load_text = run([plugin("check_load"), "-w", "50,40,30", "-c", "90,80,70"])
    load = parse_plugin_output(load_text)
    assert [p.label for p in load.perfdata] == ["load1", "load5", "load15"]
    assert all(p.value is not None and p.value >= 0 for p in load.perfdata)
    assert load.perfdata[0].warn == "50.000" and load.perfdata[0].crit == "90.000"
    _, procs_text = run([plugin("check_procs"), "-w", "5000", "-c", "9000"])
    (procs,) = to_metrics(parse_plugin_output(procs_text).perfdata)
    assert procs.name == "procs" and procs.value >= 1 and procs.levels == (5000.0, 9000.0)


def test_quoted_labels_with_spaces_and_doubled_quotes() -> None:
    output = parse_plugin_output("OK | 'C:\\ used space'=10GB;20;25;0;30 'it''s'=5 plain=1")
    assert [p.label for p in output.perfdata] == ["C:\\ used space", "it's", "plain"]
    assert to_metrics(output.perfdata)[0].value == 10 * 1024**3


@pytest.mark.parametrize(("token", "name", "value"), [
    ("t=1.5s", "t_seconds", 1.5), ("t=250ms", "t_seconds", 0.25), ("t=40us", "t_seconds", 40e-6),
    ("u=93%", "u_percent", 93.0), ("b=512B", "b_bytes", 512.0), ("b=2KB", "b_bytes", 2048.0),
    ("b=3TB", "b_bytes", 3 * 1024.0**4), ("n=17c", "n_total", 17.0), ("x=-2.5e3", "x", -2500.0),
    ("time_seconds=2s", "time_seconds", 2.0),
])
def test_units_become_base_units_and_name_suffixes(token: str, name: str, value: float) -> None:
    (metric,) = to_metrics(parse_plugin_output(f"OK | {token}").perfdata)
    assert metric.name == name and metric.value == pytest.approx(value)


def test_undetermined_value_is_kept_but_not_made_a_metric() -> None:
    output = parse_plugin_output("UNKNOWN | rta=U;100;500")
    assert output.perfdata[0].value is None and to_metrics(output.perfdata) == []


def test_bad_tokens_are_reported_and_the_rest_still_counts() -> None:
    output = parse_plugin_output("OK | good=1 bad=abc junk weird=5parsecs ok2=2;;;;")
    assert [p.label for p in output.perfdata] == ["good", "ok2"]
    assert output.problems == ("bad: value 'abc' is not a number", "'junk' is not label=value",
                               "weird: unit 'parsecs' is not one of s, ms, us, %, B, KB, MB, GB, TB, c")


def test_levels_only_for_plain_upper_thresholds() -> None:
    metrics = to_metrics(parse_plugin_output("OK | a=1;5;10 b=1;0:5;0:10 c=1;@5:10;20 d=1;5:;10:").perfdata)
    assert [m.levels for m in metrics] == [(5.0, 10.0), (5.0, 10.0), None, None]


def test_empty_and_text_only_outputs() -> None:
    assert parse_plugin_output("") .summary == ""
    only = parse_plugin_output("HTTP OK: 200\nline two\n\n")
    assert (only.summary, only.long_output, only.perfdata) == ("HTTP OK: 200", "line two", ())


@given(st.text(max_size=400))
def test_no_text_makes_the_parser_raise(text: str) -> None:
    output = parse_plugin_output(text)
    to_metrics(output.perfdata)
    assert "\n" not in output.summary
