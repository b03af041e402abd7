"""Memory and swap on FreeBSD, from `<<<freebsd_mem>>>`: sysctl(8) counters in pages, then swapinfo -k.

    hw.physmem: 2111283200
    hw.pagesize: 4096
    vm.stats.vm.v_page_count: 505870
    vm.stats.vm.v_free_count: 482182
    vm.stats.vm.v_inactive_count: 528
    vm.stats.vm.v_cache_count: 0
    [swapinfo]
    Device          1K-blocks     Used    Avail Capacity
    /dev/gpt/swapfs   1048576    16056  1032520     2%

Available is free + inactive (+ cache before FreeBSD 11): pages the kernel hands out without
writing anything first, as Linux's MemAvailable counts them. Laundry (dirty pages waiting for
swap) and the ZFS ARC are not counted. swapinfo prints a `Total` row after several devices;
the devices are summed instead.
"""

from __future__ import annotations

from watchkeeper.checkapi import AgentSection, SectionUnparsed, StringTable, sysctl_values, to_int
from watchkeeper.plugins.mem.mem import MemInfo


def _pages(values: dict[str, str], name: str) -> int:
    count = to_int(values.get(f"vm.stats.vm.{name}"))
    return count if count is not None and count >= 0 else 0


def _swap_kib(rows: StringTable) -> tuple[int, int]:
    total = used = 0
    for row in rows:
        fields = (row[0] if row else "").split()
        if len(fields) < 5 or not fields[0].startswith("/"):
            continue  # the header, and the `Total` row after several devices
        size, in_use = to_int(fields[-4]), to_int(fields[-3])
        if size is not None and in_use is not None and 0 <= in_use <= size:
            total, used = total + size, used + in_use
    return total, used


def parse_freebsd_mem(table: StringTable) -> MemInfo | None:
    split = next((index for index, row in enumerate(table) if row == ["[swapinfo]"]), len(table))
    values = sysctl_values(table[:split])
    if not values:
        return None
    page = to_int(values.get("hw.pagesize"))
    if page is None or not 512 <= page <= 1 << 30:
        raise SectionUnparsed(f"hw.pagesize is missing or not a page size: {values.get('hw.pagesize')!r}")
    total = _pages(values, "v_page_count") * page or to_int(values.get("hw.physmem")) or 0
    if total <= 0:
        raise SectionUnparsed("neither vm.stats.vm.v_page_count nor hw.physmem gives the memory size")
    available = (_pages(values, "v_free_count") + _pages(values, "v_inactive_count")
                 + _pages(values, "v_cache_count")) * page
    swap_total, swap_used = _swap_kib(table[split + 1:])
    return MemInfo(total_bytes=total, available_bytes=min(available, total),
                   swap_total_bytes=swap_total * 1024, swap_free_bytes=(swap_total - swap_used) * 1024)


freebsd_mem_section = AgentSection("freebsd_mem", parse_freebsd_mem, parsed_section="mem")
