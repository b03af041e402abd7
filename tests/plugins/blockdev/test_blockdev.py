from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import fixtures, results, section_from_file
from watchkeeper.checkapi import Result, State, build_params
from watchkeeper.collect.sections import split_sections
from watchkeeper.plugins.blockdev.identity import IdentityParams, check_identity, discover_identity
from watchkeeper.plugins.blockdev.lsblk import BlockDevice, parse_lsblk

FIXTURES = fixtures(__file__)


@pytest.mark.parametrize("sample", ["lsblk_json/debian12_vm.txt", "lsblk_json/with_loop_ext4_label.txt"])
def test_real_lsblk_json_discovers_disks_but_not_loop_or_empty_zram(sample: str) -> None:
    section = parse_lsblk(section_from_file(FIXTURES / sample, "lsblk", ":sep(0)"))
    assert section is not None and section["vda"].size_bytes == 274877906944
    assert [s.item for s in discover_identity(section)] == ["vda"]


def discovered_vda() -> tuple[IdentityParams, dict[str, BlockDevice]]:
    section = parse_lsblk(section_from_file(FIXTURES / "lsblk_json/debian12_vm.txt", "lsblk", ":sep(0)"))
    assert section is not None
    service = next(iter(discover_identity(section)))
    return build_params(IdentityParams(), service.facts), section


def test_unchanged_device_is_ok() -> None:
    params, section = discovered_vda()
    assert results(check_identity("vda", params, section, {}, 0.0))[0].state is State.OK


def test_device_name_pointing_at_another_disk_is_crit_and_says_what_it_was_and_is() -> None:
    params, section = discovered_vda()
    swapped = {"vda": replace(section["vda"], size_bytes=500 * 1024**3, serial="WD-123")}
    result = results(check_identity("vda", params, swapped, {}, 0.0))[0]
    assert result == Result(State.CRIT, "vda now points at a different device: it was size 256.00 GiB, no serial "
                            "and is now size 500.00 GiB, serial WD-123")


def test_a_new_label_or_filesystem_on_a_device_is_crit() -> None:
    params, section = discovered_vda()
    written = {"vda": replace(section["vda"], label="debian-installer", fs_type="ext4")}
    result = results(check_identity("vda", params, written, {}, 0.0))[0]
    assert result.state is State.CRIT and "overwritten or reformatted" in result.summary
    assert "label debian-installer" in result.summary


def test_vanished_device_is_crit() -> None:
    params, _ = discovered_vda()
    assert results(check_identity("vda", params, {}, {}, 0.0))[0].state is State.CRIT


def test_nested_children_and_string_sizes_of_older_lsblk() -> None:
    document = {"blockdevices": [{"name": "sda", "size": "1000", "type": "disk",
                                  "children": [{"name": "sda1", "size": "900", "type": "part", "label": "root"}]}]}
    section = parse_lsblk([[line] for line in json.dumps(document, indent=1).splitlines()])
    assert section is not None and section["sda1"].label == "root" and section["sda"].size_bytes == 1000


json_scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5))
device = st.dictionaries(st.sampled_from(["name", "kname", "size", "serial", "wwn", "type", "label", "children"]),
                         json_scalar, max_size=8)


@given(st.one_of(st.text(max_size=50), st.builds(lambda d: json.dumps({"blockdevices": d}), st.lists(device))))
def test_parse_lsblk_never_crashes(text: str) -> None:
    parse_lsblk([[line] for line in text.splitlines()])


@given(st.lists(st.tuples(st.from_regex(r"sd[a-z]{1,2}", fullmatch=True), st.integers(1, 2**50),
                          st.one_of(st.none(), st.from_regex(r"[A-Z0-9-]{1,12}", fullmatch=True))),
                unique_by=lambda t: t[0], max_size=5))
def test_lsblk_written_like_the_agent_reads_back(disks: list[tuple[str, int, str | None]]) -> None:
    document = {"blockdevices": [{"name": n, "kname": n, "size": size, "serial": serial, "type": "disk"}
                                 for n, size, serial in disks]}
    raw = ("<<<lsblk:sep(0)>>>\n" + json.dumps(document, indent=3)).encode()
    section = parse_lsblk(split_sections(raw).sections["lsblk"]) or {}
    assert {n: (d.size_bytes, d.serial) for n, d in section.items()} == {n: (s, r) for n, s, r in disks}
