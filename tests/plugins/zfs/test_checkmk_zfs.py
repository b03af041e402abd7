"""Checkmk's `<<<zpool_status>>>` (indentation lost), `<<<zpool>>>` and `<<<zfsget>>>` give the
same pools as our `zfs` section, and pools are judged by the redundancy they have left."""

from __future__ import annotations

import pytest

from tests.conftest import agent_output, fixtures
from watchkeeper.collect.sections import split_sections
from watchkeeper.engine.catalog import builtin_catalog
from watchkeeper.engine.checking import collapse, parse_host
from watchkeeper.plugins.zfs.pools import PoolParams, check_pool
from watchkeeper.plugins.zfs.redundancy import top_level_vdevs
from watchkeeper.plugins.zfs.zpool import Zfs, parse_zfs

FIXTURES = fixtures(__file__)


def checkmk(status: bytes, listing: bytes = b"") -> Zfs:
    raw = b"<<<zpool_status>>>\n" + status + b"<<<zpool>>>\n" + listing
    parsed = parse_host(builtin_catalog(), split_sections(raw)).sections["zfs"]
    assert isinstance(parsed, Zfs)
    return parsed


@pytest.mark.parametrize("sample", sorted(p.name for p in (FIXTURES / "zpool_status").glob("*.txt")))
def test_checkmk_zpool_status_gives_the_pools_devices_and_verdicts_of_ours(sample: str) -> None:
    raw = (FIXTURES / "zpool_status" / sample).read_bytes()
    ours = parse_zfs([[line] for line in raw.decode().splitlines() if line.strip()])
    theirs = checkmk(raw)
    assert ours is not None
    assert {name: pool.state for name, pool in theirs.pools.items()} == \
           {name: pool.state for name, pool in ours.pools.items()}
    for name, pool in ours.pools.items():
        other = theirs.pools[name]
        assert [(d.name, d.state, d.leaf) for d in other.devices] == [(d.name, d.state, d.leaf) for d in pool.devices]
        assert [(v.device.name, [m.name for m in v.members]) for v in top_level_vdevs(other)] == \
               [(v.device.name, [m.name for m in v.members]) for v in top_level_vdevs(pool)]
        mine = collapse(name, check_pool(name, PoolParams(scrub_max_age_seconds=None), ours, {}, 0.0))
        yours = collapse(name, check_pool(name, PoolParams(scrub_max_age_seconds=None), theirs, {}, 0.0))
        assert (yours.state, yours.summary) == (mine.state, mine.summary)


def test_all_pools_healthy_leaves_the_pool_states_to_zpool_list() -> None:
    zfs = checkmk(b"all pools are healthy\n", b"NAME SIZE ALLOC FREE CAP DEDUP HEALTH ALTROOT\n"
                  b"rpool 464G 10.1G 454G 2% 1.00x ONLINE -\n")
    assert zfs.pools["rpool"].state == "ONLINE" and zfs.pools["rpool"].size_bytes == 464 * 2**30


def test_a_replacing_vdev_inside_a_mirror_keeps_its_disks_and_is_not_a_loss() -> None:
    raw = (FIXTURES / "zpool_status" / "zfsfuse_resilver_in_progress_45pct.txt").read_bytes()
    zfs = checkmk(raw)
    mirror = top_level_vdevs(zfs.pools["tank"])[0]
    assert [m.name for m in mirror.members] == ["/root/zfstest/d1.img", "replacing-1"]
    outcome = collapse("tank", check_pool("tank", PoolParams(), zfs, {}, 0.0))
    assert outcome.state == 0 and "resilvering 45.54%" in outcome.summary


def test_the_real_checkmk_zfs_sections_of_a_degraded_host() -> None:
    split = split_sections(agent_output("checkmk-2.3.0b1-debian12-degraded.txt").read_bytes())
    zfs = parse_host(builtin_catalog(), split).sections["zfs"]
    assert sorted(zfs.pools) == ["scratch", "tank", "vault"]
    assert zfs.pools["vault"].size_bytes == pytest.approx(366 * 2**20)
    vault = collapse("vault", check_pool("vault", PoolParams(), zfs, {}, 0.0))
    assert vault.state == 1 and "raidz2-0 can lose 1 more" in vault.summary
