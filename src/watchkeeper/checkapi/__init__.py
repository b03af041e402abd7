"""Everything a check plugin may import."""

from watchkeeper.checkapi import render
from watchkeeper.checkapi.agent_cache import cache_age, split_cached
from watchkeeper.checkapi.counters import ValueStore, average, derivative, growth_rate, rate, seconds_until
from watchkeeper.checkapi.forecast import check_time_until_full
from watchkeeper.checkapi.levels import Fixed, Levels, LevelsError, NagiosLevels, Range, check_levels
from watchkeeper.checkapi.parsing import (
    binary_size,
    finite,
    json_list,
    load_json,
    prometheus_sample,
    sysctl_values,
    to_float,
    to_int,
)
from watchkeeper.checkapi.plugin import AgentSection, CheckPlugin, NoParams, ParamsError, SectionUnparsed, build_params
from watchkeeper.checkapi.snmp import SnmpRows, SnmpSection, SnmpTable, snmp_cell, snmp_rows, snmp_section, snmp_text
from watchkeeper.model.verdicts import (
    CheckResult,
    DiscoveryResult,
    Metric,
    Pending,
    Result,
    Service,
    State,
    StringTable,
    vanished,
)

__all__ = [
    "AgentSection",
    "CheckPlugin",
    "CheckResult",
    "DiscoveryResult",
    "Fixed",
    "Levels",
    "LevelsError",
    "Metric",
    "NagiosLevels",
    "NoParams",
    "ParamsError",
    "Pending",
    "Range",
    "Result",
    "SectionUnparsed",
    "SnmpRows",
    "SnmpSection",
    "SnmpTable",
    "Service",
    "State",
    "StringTable",
    "ValueStore",
    "average",
    "binary_size",
    "build_params",
    "cache_age",
    "check_levels",
    "check_time_until_full",
    "derivative",
    "finite",
    "growth_rate",
    "json_list",
    "load_json",
    "prometheus_sample",
    "rate",
    "render",
    "seconds_until",
    "snmp_cell",
    "snmp_rows",
    "snmp_section",
    "snmp_text",
    "split_cached",
    "sysctl_values",
    "to_float",
    "to_int",
    "vanished",
]
