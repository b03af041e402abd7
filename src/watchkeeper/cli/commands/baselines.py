"""`baseline`: learned baselines per hour of the week, and levels against them."""

from __future__ import annotations

import argparse
import time
from typing import Any

from watchkeeper.cli.common import open_store, parse_label
from watchkeeper.errors import ConfigError, NotFound
from watchkeeper.model.baselines import BaselineRule, hour_of_week
from watchkeeper.store.baseline_tables import BaselineTables

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _levels(text: str | None, what: str) -> tuple[float, float] | None:
    if text is None:
        return None
    try:
        warn, crit = (float(part) for part in text.split(","))
    except ValueError:
        raise ConfigError(f"{what} {text!r}: write WARN,CRIT, e.g. 3,5") from None
    return warn, crit


def cmd_add(args: argparse.Namespace) -> int:
    spreads = _levels(args.spreads, "--spreads")
    peak = _levels(args.above_peak, "--above-peak")
    rule = BaselineRule(0, args.metric, args.host, args.service, dict(parse_label(text) for text in args.label),
                        spreads if spreads is not None or peak is not None else (3.0, 5.0), peak, args.weeks,
                        args.min_weeks, args.comment)
    rule_id = BaselineTables(open_store(args)).add_rule(rule)
    print(f"Added baseline rule {rule_id}; the daemon computes its baselines within a minute, and judges "
          f"them once {rule.min_weeks:g} weeks of history exist.")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    for rule in BaselineTables(open_store(args)).rules():
        labels = "".join(f" label:{k}={v}" for k, v in rule.host_labels.items())
        levels = []
        if rule.spreads:
            levels.append(f"spreads {rule.spreads[0]:g}/{rule.spreads[1]:g}")
        if rule.above_peak_percent:
            levels.append(f"above peak {rule.above_peak_percent[0]:g}%/{rule.above_peak_percent[1]:g}%")
        print(f"{rule.id:>4} {rule.metric:<24} host={rule.host_glob}{labels} service={rule.service_glob} "
              f"{', '.join(levels)}; {rule.weeks} weeks, judged after {rule.min_weeks:g} {rule.comment}")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    BaselineTables(open_store(args)).remove_rule(args.id)
    return 0


def cmd_compute(args: argparse.Namespace) -> int:
    done = BaselineTables(open_store(args)).compute_all(time.time())
    print(f"Computed {done.series} baselines for {done.rules} rules ({done.active} with enough history) "
          f"in {done.seconds:.2f} CPU s.")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    baselines = BaselineTables(open_store(args)).baselines()
    baseline = baselines.get(args.host, {}).get(args.service, {}).get(args.metric)
    if baseline is None:
        raise NotFound(f"no baseline for {args.host} / {args.service} / {args.metric}: no rule matches it, or it "
                       "was not computed yet (`watchkeeper baseline compute`)")
    now = time.time()
    print(f"rule {baseline.rule.id}; history {baseline.history_s / 86400:.1f} d of {baseline.rule.weeks} weeks; "
          + ("judged" if baseline.active else f"judged after {baseline.rule.min_weeks:g} weeks")
          + (f"; peak {baseline.peak:.4g}" if baseline.peak is not None else ""))
    current = hour_of_week(now, baseline.utc_offset_s)
    for hour in range(168):
        band = baseline.hours[hour]
        if args.all or hour == current:
            mark = " <- now" if hour == current else ""
            shown = f"{band[0]:.4g} ± {band[1]:.4g}" if band else "(not enough data)"
            print(f"{DAYS[hour // 24]} {hour % 24:02d}:00  {shown}{mark}")
    return 0


def register(sub: Any) -> None:
    baseline = sub.add_parser("baseline", help="learned baselines per hour of the week, and levels against them")
    bsub = baseline.add_subparsers(dest="baseline_command", required=True)
    p = bsub.add_parser("add", help="e.g. `baseline add cpu_percent --service 'VM' --spreads 3,5`")
    p.add_argument("metric", help="the metric's name, as graphs show it (cpu_percent, load1, ...)")
    p.add_argument("--host", default="*", help="host name glob (default *)")
    p.add_argument("--service", default="*", help="service name glob (default *)")
    p.add_argument("--label", action="append", default=[], metavar="KEY=VALUE", help="only hosts with this label")
    p.add_argument("--spreads", help="WARN,CRIT: that many spreads above the usual value for this hour (default 3,5)")
    p.add_argument("--above-peak", help="WARN,CRIT: percent above the peak of the weeks, e.g. 10,25")
    p.add_argument("--weeks", type=int, default=4, help="history the baseline learns from (default 4)")
    p.add_argument("--min-weeks", type=float, default=2.0, help="judge only once this much history exists (default 2)")
    p.add_argument("--comment", default="")
    p.set_defaults(func=cmd_add)
    p = bsub.add_parser("list", help="baseline rules")
    p.set_defaults(func=cmd_list)
    p = bsub.add_parser("remove", help="remove a baseline rule")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_remove)
    p = bsub.add_parser("compute", help="compute every baseline now (the daemon does every hour)")
    p.set_defaults(func=cmd_compute)
    p = bsub.add_parser("show", help="a series' baseline: the band for this hour (--all: every hour)")
    p.add_argument("host")
    p.add_argument("service")
    p.add_argument("metric")
    p.add_argument("--all", action="store_true")
    p.set_defaults(func=cmd_show)
