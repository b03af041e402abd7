"""Traffic, packet, error and drop rates per network interface, link state against what
discovery saw, and a sudden packet-rate spike against the interface's own baseline."""

from __future__ import annotations

from dataclasses import dataclass

from watchkeeper.checkapi import (
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    Fixed,
    Levels,
    Metric,
    Pending,
    Result,
    Service,
    State,
    ValueStore,
    average,
    check_levels,
    rate,
    render,
)
from watchkeeper.plugins.interfaces.lnx_if import Interfaces

UP_STATES = frozenset({"UP", "UNKNOWN"})  # tun/ppp/lo report UNKNOWN while they pass traffic
BASELINE_HORIZON_S = 86400.0
BASELINE_WARMUP_S = 3600.0


@dataclass(frozen=True, slots=True)
class TrafficParams:
    errors_percent: Levels | None = Fixed(warn=0.01, crit=0.1)
    """Errors as a share of packets, in either direction."""
    in_bytes_per_second: Levels | None = None
    out_bytes_per_second: Levels | None = None
    spike_factor: float | None = 10.0
    """WARN when the packet rate is this many times its own day-long average (a DDoS probe)."""
    spike_min_packets_per_second: float = 1000.0
    """...and at least this high, so an idle interface waking up is no spike."""
    oper_state: str | None = None
    """The link state seen at discovery."""
    members: int | None = None
    """How many member ports a link aggregation had at discovery."""


def discover_traffic(section: Interfaces) -> DiscoveryResult:
    for name, nic in section.by_name.items():
        if name == "lo" or nic.loopback or nic.admin_up is False:
            continue
        if nic.oper_state is None or nic.oper_state in UP_STATES:
            facts: dict[str, str | int] = {"oper_state": nic.oper_state} if nic.oper_state else {}
            if nic.members:
                facts["members"] = len(nic.members)
            yield Service(name, facts)


def check_traffic(item: str, params: TrafficParams, section: Interfaces, store: ValueStore, now: float) -> CheckResult:
    nic = section.by_name.get(item)
    if nic is None:
        yield Result(State.CRIT, f"interface {item!r} is missing from the agent output; "
                     "if it was removed or renamed, run service discovery for this host again")
        return
    if nic.oper_state is not None:
        if params.oper_state in UP_STATES and nic.oper_state not in UP_STATES:
            yield Result(State.CRIT, f"link is {nic.oper_state.lower()} (was {params.oper_state.lower()} "
                         "at discovery)")
        else:
            yield Result(State.OK, f"link {nic.oper_state.lower()}")
    if nic.alias:
        yield Result(State.OK, f"alias {nic.alias}")
    if nic.speed_bits_per_second:
        yield Result(State.OK, f"speed {nic.speed_bits_per_second // 1_000_000} Mbit/s")
    if nic.members or params.members:
        yield from _check_members(nic.members, params.members or 0)
    if _device_restarted(store, now, section.device_uptime_s):
        for key in COUNTER_KEYS:
            store.pop(key, None)
    # Every counter goes into the store before any is looked at, so one reset delays all once.
    wrap = nic.counter_wrap
    rx = rate(store, "in_bytes", now, nic.in_bytes, wrap)
    tx = rate(store, "out_bytes", now, nic.out_bytes, wrap)
    rx_pkts = rate(store, "in_packets", now, nic.in_packets, wrap)
    tx_pkts = rate(store, "out_packets", now, nic.out_packets, wrap)
    rx_err = rate(store, "in_errors", now, nic.in_errors, wrap)
    tx_err = rate(store, "out_errors", now, nic.out_errors, wrap)
    rx_drop = rate(store, "in_drops", now, nic.in_drops, wrap)
    tx_drop = rate(store, "out_drops", now, nic.out_drops, wrap)
    if (rx is None or tx is None or rx_pkts is None or tx_pkts is None or rx_err is None
            or tx_err is None or rx_drop is None or tx_drop is None):
        yield Pending("counters initialised or reset; rates follow on the next run")
        return
    if wrap and nic.speed_bits_per_second and max(rx, tx) * 8 > 1.5 * nic.speed_bits_per_second:
        # more than the link can carry: the 32-bit counters were cleared, not wrapped
        yield Pending("counters reset on the device; rates follow on the next run")
        return
    boundaries = (0.0, nic.speed_bits_per_second / 8.0) if nic.speed_bits_per_second else None
    yield from check_levels(rx, levels_upper=params.in_bytes_per_second, metric_name="if_in_bytes_per_second",
                            label="In", render_func=render.bytes_per_second, boundaries=boundaries)
    yield from check_levels(tx, levels_upper=params.out_bytes_per_second,
                            metric_name="if_out_bytes_per_second", label="out",
                            render_func=render.bytes_per_second, boundaries=boundaries)
    yield Metric("if_in_packets_per_second", rx_pkts)
    yield Metric("if_out_packets_per_second", tx_pkts)
    yield Metric("if_in_errors_per_second", rx_err)
    yield Metric("if_out_errors_per_second", tx_err)
    yield Metric("if_in_drops_per_second", rx_drop)
    yield Metric("if_out_drops_per_second", tx_drop)
    for direction, errors, packets in (("in", rx_err, rx_pkts), ("out", tx_err, tx_pkts)):
        if errors and packets:
            yield from check_levels(100.0 * errors / (packets + errors), levels_upper=params.errors_percent,
                                    label=f"{direction} errors", render_func=render.percent)
    yield from _check_spike(params, store, now, rx_pkts + tx_pkts)


COUNTER_KEYS = ("in_bytes", "out_bytes", "in_packets", "out_packets", "in_errors", "out_errors", "in_drops",
                "out_drops")
RESTART_SLACK_S = 60.0


def _device_restarted(store: ValueStore, now: float, uptime_s: float | None) -> bool:
    """The device's boot time moved forward: it restarted, and its counters began again."""
    if uptime_s is None:
        return False
    boot = now - uptime_s
    last = store.get("device_boot")
    store["device_boot"] = boot
    return isinstance(last, (int, float)) and boot > last + RESTART_SLACK_S


def _check_members(members: tuple[tuple[str, str], ...], discovered: int) -> CheckResult:
    down = [name for name, state in members if state not in UP_STATES]
    listing = ", ".join(f"{name} {state.lower()}" for name, state in members)
    if len(members) < discovered:
        yield Result(State.WARN, f"{len(members)} member ports, {discovered} at discovery: "
                     f"{listing or 'none'}; if one was taken out on purpose, run service discovery again")
    elif not down:
        yield Result(State.OK, f"{len(members)} member ports up: {listing}")
    elif len(down) < len(members):
        yield Result(State.WARN, f"{len(down)} of {len(members)} member ports down, redundancy lost: {listing}")
    else:
        yield Result(State.CRIT, f"all {len(members)} member ports down: {listing}")


def _check_spike(params: TrafficParams, store: ValueStore, now: float, packets: float) -> CheckResult:
    since = store.setdefault("baseline_since", now)
    baseline = average(store, "packets_baseline", now, packets, BASELINE_HORIZON_S)
    if params.spike_factor is None or not isinstance(since, (int, float)) or now - since < BASELINE_WARMUP_S:
        return
    if packets >= params.spike_min_packets_per_second and packets > params.spike_factor * max(baseline, 1.0):
        yield Result(State.WARN, f"packet rate {render.per_second(packets)} is {packets / max(baseline, 1.0):.0f}x "
                     f"this interface's usual {render.per_second(baseline)} (spike factor "
                     f"{params.spike_factor:g})")


interface_traffic = CheckPlugin(
    name="interfaces",
    section="lnx_if",
    title="Interface %s",
    discover=discover_traffic,
    check=check_traffic,
    default_params=TrafficParams(),
)
