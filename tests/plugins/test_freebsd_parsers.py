"""The FreeBSD parsers that feed the Linux families' checks (CPU, memory, uptime, filesystems,
mount options, interfaces), on the real FreeBSD outputs in tests/agent_outputs/freebsd."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import results
from watchkeeper.checkapi import SectionUnparsed, State, StringTable
from watchkeeper.plugins.cpu.freebsd import parse_freebsd_cpu, parse_freebsd_load
from watchkeeper.plugins.cpu.load import Load
from watchkeeper.plugins.cpu.utilization import CpuTicks
from watchkeeper.plugins.diskstat.diskstat import DiskCounters
from watchkeeper.plugins.diskstat.freebsd import parse_freebsd_iostat
from watchkeeper.plugins.filesystems.freebsd import parse_freebsd_df
from watchkeeper.plugins.interfaces.freebsd import parse_freebsd_if
from watchkeeper.plugins.mem.freebsd import parse_freebsd_mem
from watchkeeper.plugins.mounts.mounts import MountParams, check_mounts, parse_mounts
from watchkeeper.plugins.uptime.freebsd import parse_freebsd_uptime

OUTPUTS = Path(__file__).resolve().parents[1] / "agent_outputs" / "freebsd"


def rows(*relatives: str) -> StringTable:
    table: StringTable = []
    for relative in relatives:
        if relative.startswith("["):
            table.append([relative])
        else:
            table.extend([line] for line in (OUTPUTS / relative).read_text().splitlines())
    return table


SYSCTL = "sysctl/freebsd14_5_vm.txt"


def test_load_and_cpu_ticks_come_from_sysctl() -> None:
    assert parse_freebsd_load(rows(SYSCTL)) == Load(0.32, 0.16, 0.06, 2)
    # user + nice, system + interrupt, idle; FreeBSD counts no iowait or steal
    assert parse_freebsd_cpu(rows(SYSCTL)) == CpuTicks(321, 198, 61683, 0, 0, 2)


@pytest.mark.parametrize("line", ["kern.cp_time: 1 2 3", "kern.cp_time: 1 2 3 4 x", "kern.cp_time: 1 2 3 4 -5"])
def test_cp_time_that_is_not_five_counters_is_unparsed_not_zero(line: str) -> None:
    with pytest.raises(SectionUnparsed, match="five tick counters"):
        parse_freebsd_cpu([[line]])


def test_memory_counts_free_inactive_and_cache_pages_as_available_and_sums_swap_devices() -> None:
    mem = parse_freebsd_mem(rows(SYSCTL, "[swapinfo]", "swapinfo_k/go_osstat_fixture_gpt_swapfs_2pct.txt"))
    assert mem is not None
    assert mem.total_bytes == 2111283200  # hw.physmem: the capture has no v_page_count
    assert mem.available_bytes == (482182 + 528 + 0) * 4096
    assert (mem.swap_total_bytes, mem.swap_free_bytes) == (1048576 * 1024, (1048576 - 16056) * 1024)


def test_swapinfos_total_row_is_not_counted_twice() -> None:
    table = rows(SYSCTL, "[swapinfo]") + [["Device          1K-blocks     Used    Avail Capacity"],
                                          ["/dev/ada0p3       1048576     1000  1047576     0%"],
                                          ["/dev/ada1p3       1048576     3000  1045576     0%"],
                                          ["Total             2097152     4000  2093152     0%"]]
    mem = parse_freebsd_mem(table)
    assert mem is not None and mem.swap_total_bytes == 2097152 * 1024
    assert mem.swap_total_bytes - mem.swap_free_bytes == 4000 * 1024


def test_uptime_is_measured_against_the_hosts_clock_and_a_clock_set_back_is_said() -> None:
    assert parse_freebsd_uptime(rows(SYSCTL) + [["now: 1789900897"]]) == 246.0
    with pytest.raises(SectionUnparsed, match="clock was set back"):
        parse_freebsd_uptime(rows(SYSCTL) + [["now: 1789900000"]])


def test_filesystems_get_their_type_from_mount_p_and_pseudo_filesystems_are_left_out() -> None:
    space = parse_freebsd_df(rows("[df]", "df_kP/freebsd14_5_vm.txt", "[inodes]", "df_ki/freebsd14_5_vm.txt",
                                  "[mounts]", "mount_p/freebsd14_5_vm.txt"))
    assert set(space) == {"/", "/boot/efi"}
    root = space["/"]
    assert (root.device, root.fs_type, root.size_bytes, root.used_bytes) == ("/dev/gpt/rootfs", "ufs",
                                                                           5061648 * 1024, 2466536 * 1024)
    assert (root.inodes_total, root.inodes_used) == (30615 + 691687, 30615)
    assert space["/boot/efi"].inodes_total is None  # msdosfs has no inode table


def test_the_block_size_comes_from_dfs_header() -> None:
    df = (OUTPUTS / "df_kP/freebsd14_5_vm.txt").read_text().splitlines()
    halved = [df[0].replace("1024-blocks", "512-blocks")] + [  # what `df -kP` prints: -P after -k means 512
        line.replace("5061648 2466536 2190184", "10123296 4933072 4380368") for line in df[1:]]
    space = parse_freebsd_df([["[df]"], *([line] for line in halved)])
    assert space["/"].size_bytes == 5061648 * 1024


def test_mount_p_reads_like_proc_mounts_and_async_is_an_unsafe_option() -> None:
    mounts = parse_mounts([line.split() for line in (OUTPUTS / "mount_p/freebsd14_5_vm.txt").read_text().splitlines()])
    assert (mounts["/"].device, mounts["/"].fs_type, mounts["/"].options) == ("/dev/gpt/rootfs", "ufs", ("rw",))
    asynchronous = parse_mounts([["/dev/gpt/rootfs", "/", "ufs", "rw,async", "1", "1"]])
    found = results(check_mounts("/", MountParams(options="rw"), asynchronous, {}, 0.0))
    assert [r.state for r in found] == [State.OK, State.WARN, State.WARN]
    assert "unsafe option async" in found[1].summary


def test_interfaces_take_counters_from_the_link_row_and_state_from_ifconfig() -> None:
    found = parse_freebsd_if(rows("[netstat]", "netstat_ibn/freebsd14_5_vm.txt", "[ifconfig]",
                                  "ifconfig/freebsd14_5_vm.txt"))
    assert found is not None
    vtnet0, lo0 = found.by_name["vtnet0"], found.by_name["lo0"]
    assert (vtnet0.in_bytes, vtnet0.out_bytes, vtnet0.in_packets, vtnet0.in_drops) == (30412, 27564, 155, 0)
    assert (vtnet0.oper_state, vtnet0.admin_up, vtnet0.speed_bits_per_second) == ("UP", True, 10_000_000_000)
    assert lo0.loopback


def test_an_interface_marked_down_in_netstat_stays_down() -> None:
    header = (OUTPUTS / "netstat_ibn/freebsd14_5_vm.txt").read_text().splitlines()[0]
    # the real vtnet0 row, as netstat prints an interface that is down: its name ends in `*`
    down = (OUTPUTS / "netstat_ibn/freebsd14_5_vm.txt").read_text().splitlines()[1].replace("vtnet0 ", "vtnet1*", 1)
    found = parse_freebsd_if([["[netstat]"], [header], [down]])
    assert found is not None and found.by_name["vtnet1"].admin_up is False


def test_iostat_totals_since_boot_are_disk_counters_and_pass_devices_no_disks() -> None:
    stats = parse_freebsd_iostat([["1789900897"]] + rows("iostat_dxI/freebsd11_2_five_disks.txt"))
    assert stats is not None and stats.timestamp == 1789900897.0
    assert set(stats.disks) == {"ada0", "ada1", "ada2", "ada3", "ada4"}
    assert stats.disks["ada0"] == DiskCounters(reads=152107298, read_bytes=int(5735055021.5 * 1024),
                                               read_ms=1553713600, writes=125540885,
                                               write_bytes=2229765260 * 1024, write_ms=0, busy_ms=533244600)
