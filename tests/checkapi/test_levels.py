from __future__ import annotations

import math

import pytest

import watchkeeper.checkapi as checkapi
from watchkeeper.checkapi import (
    Fixed,
    LevelsError,
    Metric,
    NagiosLevels,
    ParamsError,
    Range,
    Result,
    State,
    build_params,
    check_levels,
    render,
)
from watchkeeper.plugins.filesystems.space import SpaceParams


def test_checkapi_exports_exactly_the_plugin_api() -> None:
    assert sorted(checkapi.__all__) == [
        "AgentSection", "CheckPlugin", "CheckResult", "DiscoveryResult", "Fixed", "Levels", "LevelsError", "Metric",
        "NagiosLevels", "NoParams", "ParamsError", "Pending", "Range", "Result", "SectionUnparsed", "Service",
        "SnmpRows", "SnmpSection", "SnmpTable", "State",
        "StringTable", "ValueStore", "average", "binary_size", "build_params", "cache_age", "check_levels",
        "check_time_until_full", "derivative", "finite", "growth_rate", "json_list", "load_json", "prometheus_sample",
        "rate", "render",
        "seconds_until", "snmp_cell", "snmp_rows", "snmp_section", "snmp_text", "split_cached", "sysctl_values",
        "to_float", "to_int",
        "vanished",
    ]


@pytest.mark.parametrize(
    ("spec", "value", "alerts"),
    [
        ("10", 5, False), ("10", 11, True), ("10", -1, True),
        ("10:", 10, False), ("10:", 9.9, True),
        ("~:10", -1000, False), ("~:10", 10.1, True),
        ("10:20", 15, False), ("10:20", 9, True), ("10:20", 21, True),
        ("@10:20", 15, True), ("@10:20", 10, True), ("@10:20", 21, False),
    ],
)
def test_nagios_range_alerts_per_the_plugin_guidelines(spec: str, value: float, alerts: bool) -> None:
    assert Range.parse(spec).alerts(value) is alerts


@pytest.mark.parametrize("spec", ["abc", "20:10", "1:x", "@"])
def test_invalid_nagios_range_says_which_syntax_is_accepted(spec: str) -> None:
    with pytest.raises(LevelsError, match="N, N:, ~:N, N:M or @N:M|is above end"):
        Range.parse(spec)


def test_value_above_warn_level_is_warn_and_names_the_levels() -> None:
    assert list(check_levels(85.0, levels_upper=Fixed(80.0, 90.0), metric_name="mem_used_percent",
                             label="RAM used", render_func=render.percent)) == [
        Result(State.WARN, "RAM used: 85.00% (warn/crit at 80.00%/90.00%)"),
        Metric("mem_used_percent", 85.0, levels=(80.0, 90.0)),
    ]


def test_value_below_lower_crit_level_is_crit() -> None:
    result = next(check_levels(3.0, levels_lower=Fixed(10.0, 5.0), label="free", render_func=render.number))
    assert result == Result(State.CRIT, "free: 3.00 (warn/crit below 10.00/5.00)")


def test_nagios_levels_judge_with_ranges_and_draw_plain_upper_ends() -> None:
    levels = NagiosLevels.parse("~:5", "~:10")
    results = list(check_levels(7.0, levels_upper=levels, metric_name="load1", label="load",
                                render_func=render.number))
    assert results == [Result(State.WARN, "load: 7.00 (warning range ~:5)"),
                       Metric("load1", 7.0, levels=(5.0, 10.0))]


def test_ok_value_does_not_mention_levels() -> None:
    assert next(check_levels(1.0, levels_upper=Fixed(80.0, 90.0), label="x", render_func=render.number)) == \
        Result(State.OK, "x: 1.00")


def test_rule_params_are_converted_to_the_declared_types() -> None:
    params = build_params(SpaceParams(), {"used_percent": [85, 95], "free_bytes": {"warn": 10, "crit": 5},
                                          "trend_horizon_seconds": 600})
    assert params.used_percent == Fixed(85.0, 95.0)
    assert params.free_bytes == Fixed(10.0, 5.0)
    assert params.trend_horizon_seconds == 600.0


def test_rule_params_accept_nagios_ranges_as_strings() -> None:
    params = build_params(SpaceParams(), {"used_percent": {"warn": "~:80", "crit": "~:90"}})
    assert params.used_percent == NagiosLevels(Range(-math.inf, 80.0, False, "~:80"),
                                               Range(-math.inf, 90.0, False, "~:90"))


def test_unknown_parameter_is_refused_with_the_known_names() -> None:
    with pytest.raises(ParamsError, match="unknown parameter 'used'.*used_percent"):
        build_params(SpaceParams(), {"used": 1})


def test_parameter_of_wrong_type_is_refused() -> None:
    with pytest.raises(ParamsError, match="trend_horizon_seconds"):
        build_params(SpaceParams(), {"trend_horizon_seconds": "soon"})


@pytest.mark.parametrize(("seconds", "text"), [
    (0.5, "0.50 seconds"), (59, "59 seconds"), (61, "1 minute 1 second"), (3600, "1 hour"),
    (93784, "1 day 2 hours"), (8 * 86400, "8 days"),
])
def test_timespans_show_the_two_largest_units(seconds: float, text: str) -> None:
    assert render.timespan(seconds) == text


def test_bytes_render_in_iec_units() -> None:
    assert (render.bytes_(512), render.bytes_(1536), render.bytes_(3 * 1024**4)) == ("512 B", "1.50 KiB", "3.00 TiB")


def test_a_count_too_large_for_a_float_is_still_rendered() -> None:
    """Found by the fuzzer (1,000,000 inputs, seed 4242): a 400-digit count overflowed float()."""
    assert render.count(9287) == "9287" and render.count(9287.4) == "9287"
    assert render.count(10**400) == "a number of more than 30 digits"
    assert render.count(float("inf")) == "inf"
