from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import CHECKMK_2_3_CONTAINER, agent_section, fixtures
from watchkeeper.checkapi import Metric, Result, State, ValueStore
from watchkeeper.collect.sections import split_sections
from watchkeeper.plugins.interfaces.lnx_if import Interface, Interfaces, parse_lnx_if
from watchkeeper.plugins.interfaces.traffic import TrafficParams, check_traffic, discover_traffic

FIXTURES = fixtures(__file__)


def test_checkmk_lnx_if_with_iplink_and_address_blocks() -> None:
    section = parse_lnx_if(agent_section(CHECKMK_2_3_CONTAINER, "lnx_if"))
    assert section is not None
    eth0 = section.by_name["eth0"]
    assert (eth0.in_bytes, eth0.out_packets, eth0.oper_state, eth0.admin_up) == (54408806, 919, "UP", True)
    assert section.by_name["ifb0"].oper_state == "DOWN"
    assert [s.item for s in discover_traffic(section)] == ["eth0"]


def test_raw_proc_net_dev_with_its_headers() -> None:
    raw = b"<<<lnx_if:sep(58)>>>\n" + (FIXTURES / "proc_net_dev/debian12_vm.txt").read_bytes()
    section = parse_lnx_if(split_sections(raw).sections["lnx_if"])
    assert section is not None and sorted(section.by_name) == ["eth0", "ifb0", "ifb1", "lo"]
    assert section.by_name["eth0"].in_bytes == 26969312


def nic(**counters: Any) -> Interfaces:
    return Interfaces({"eth0": Interface(has_counters=True, oper_state="UP", admin_up=True, **counters)})


def test_traffic_rates_per_second() -> None:
    store: ValueStore = {}
    list(check_traffic("eth0", TrafficParams(), nic(in_bytes=0, out_bytes=0), store, 0.0))
    metrics = {m.name: m.value for m in check_traffic("eth0", TrafficParams(), nic(in_bytes=6000, out_bytes=600,
               in_packets=60), store, 60.0) if isinstance(m, Metric)}
    assert (metrics["if_in_bytes_per_second"], metrics["if_out_bytes_per_second"]) == (100.0, 10.0)
    assert metrics["if_in_packets_per_second"] == 1.0


def test_link_down_since_discovery_is_crit() -> None:
    section = Interfaces({"eth0": Interface(has_counters=True, oper_state="DOWN")})
    results = list(check_traffic("eth0", TrafficParams(oper_state="UP"), section, {}, 0.0))
    assert results[0] == Result(State.CRIT, "link is down (was up at discovery)")


def test_packet_spike_against_the_baseline_warns_after_warmup() -> None:
    store: ValueStore = {}
    packets = 0
    for minute in range(0, 121):  # two hours at 100 packets/s
        packets += 6000
        list(check_traffic("eth0", TrafficParams(), nic(in_packets=packets), store, minute * 60.0))
    packets += 60 * 50_000  # then a minute at 50,000 packets/s
    results = list(check_traffic("eth0", TrafficParams(), nic(in_packets=packets), store, 121 * 60.0))
    spikes = [r for r in results if isinstance(r, Result) and r.state is State.WARN]
    assert len(spikes) == 1 and spikes[0].summary.startswith("packet rate 50000.00/s is")


def test_error_share_above_level_warns() -> None:
    store: ValueStore = {}
    list(check_traffic("eth0", TrafficParams(), nic(), store, 0.0))
    results = list(check_traffic("eth0", TrafficParams(), nic(in_packets=1000, in_errors=10), store, 60.0))
    assert any(isinstance(r, Result) and r.state is State.CRIT and r.summary.startswith("in errors")
               for r in results)


@given(st.lists(st.lists(st.text(max_size=30), min_size=1, max_size=4)))
def test_parse_lnx_if_never_crashes(table: list[list[str]]) -> None:
    parse_lnx_if(table)
