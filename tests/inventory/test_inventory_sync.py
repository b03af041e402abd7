"""Inventory sources against a real hypervisor (libvirt's test driver read by the agent's
collector) through the scheduler: its domains become hosts with labels, a rule by label gives
them their levels, a domain that goes is retired (a downtime) and removed after the grace
period with its history kept, one that comes back returns; `inventory sync --dry-run` shows
all of it and changes nothing; a host made by hand is never touched."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import missing
from tests.labs.libvirt import LabDomain, collect, unavailable, write_node
from watchkeeper.cli.main import main
from watchkeeper.inventory.sync import sync
from watchkeeper.model.hosts import HostConfig
from watchkeeper.model.inventory import InventorySource
from watchkeeper.paths import Paths
from watchkeeper.schedule.scheduler import Scheduler
from watchkeeper.store.database import Store
from watchkeeper.store.inventory_tables import RETIRED_BY, InventoryTables
from watchkeeper.store.notify_tables import NotifyTables

GIB_KIB = 1024**2
DAY = 86400.0
WEB = LabDomain("web01", vcpus=4, memory_kib=4 * GIB_KIB)
DB = LabDomain("db01", vcpus=8, memory_kib=16 * GIB_KIB)


class Lab:
    def __init__(self, tmp_path: Path) -> None:
        self.path = tmp_path
        self.now = 1_796_025_000.0
        self.store = Store(tmp_path / "home" / "watchkeeper.db")
        self.store.add_host(HostConfig("hyp1", f"file://{tmp_path / 'hyp1.txt'}"))
        self.scheduler = Scheduler(self.store, Paths(tmp_path / "home"), clock=lambda: self.now)

    def hypervisor(self, *domains: LabDomain) -> None:
        uri = write_node(self.path / "node.xml", cpus=32, memory_kib=128 * GIB_KIB, domains=list(domains))
        (self.path / "hyp1.txt").write_bytes(collect(uri))

    async def check(self, host: str) -> dict[str, tuple[int, str]]:
        await self.scheduler.reload()
        cycle = await self.scheduler.check_host(self.scheduler.hosts[host])
        self.scheduler.sink.flush_now()
        return {o.name: (int(o.state), o.summary) for o in cycle.outcomes}

    def hosts(self) -> dict[str, HostConfig]:
        return {row.config.name: row.config for row in self.store.hosts()}


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    reason = unavailable()
    if reason is not None:
        missing(reason)
    return Lab(tmp_path)


async def test_a_hypervisors_domains_become_hosts_that_rules_by_label_configure(lab: Lab) -> None:
    InventoryTables(lab.store).add_source(InventorySource("vms", "piggyback", source_hosts="hyp*",
                                                          labels={"site": "b"}, grace_s=DAY))
    assert main(["--home", str(lab.path / "home"), "rule", "add", "vm_guest", "cpu_percent=[0, 0]",
                 "--label", "hypervisor=hyp1"]) == 0
    lab.hypervisor(WEB, DB)
    await lab.check("hyp1")

    changes = sync(lab.store, lab.now)[0].changes
    assert sorted((c.action, c.host) for c in changes) == [("create", "db01"), ("create", "web01")]
    web = lab.hosts()["web01"]
    assert web.uri == "piggyback"
    assert web.opts.labels == {"site": "b", "hypervisor": "hyp1", "piggyback_source": "hyp1", "inventory": "vms"}
    assert sync(lab.store, lab.now)[0].changes == []  # nothing changes twice

    found = await lab.check("web01")
    assert found["VM"][0] == 0 and found["VM"][1].startswith("running, 4 vCPUs")
    lab.now += 60  # with hyp1's next output there is a CPU rate, and the rule's levels apply to it
    await lab.check("hyp1")
    found = await lab.check("web01")
    assert found["VM"][0] == 2 and "CPU: 0.00% (warn/crit at 0.00%/0.00%)" in found["VM"][1], found["VM"]
    log = [(e.action, e.host) for e in InventoryTables(lab.store).log()]
    assert log == [("create", "db01"), ("create", "web01")]


async def test_a_domain_that_goes_is_retired_then_removed_with_its_history_and_may_come_back(
        lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    InventoryTables(lab.store).add_source(InventorySource("vms", "piggyback", grace_s=DAY))
    lab.hypervisor(WEB, DB)
    await lab.check("hyp1")
    sync(lab.store, lab.now)
    await lab.check("web01")
    assert lab.store.query("SELECT COUNT(*) FROM state_history WHERE host = 'web01'")[0][0] > 0

    lab.hypervisor(DB)  # web01 undefined on hyp1
    lab.now += 60
    await lab.check("hyp1")
    home = str(lab.path / "home")
    assert main(["--home", home, "inventory", "sync", "--dry-run"]) == 0
    assert "vms: would retire web01 (its source no longer lists it; removed after 1 d" in capsys.readouterr().out
    assert InventoryTables(lab.store).owned()["web01"].retired is None  # a dry run changed nothing

    assert [c.action for c in sync(lab.store, lab.now)[0].changes] == ["retire"]
    downtimes = [d for d in NotifyTables(lab.store).downtimes() if d.host == "web01"]
    assert len(downtimes) == 1 and downtimes[0].author == RETIRED_BY and downtimes[0].end > lab.now + DAY
    assert "web01" in lab.hosts()

    lab.now += DAY
    assert [c.action for c in sync(lab.store, lab.now)[0].changes] == ["remove"]
    assert "web01" not in lab.hosts()
    assert lab.store.query("SELECT COUNT(*) FROM state_history WHERE host = 'web01'")[0][0] > 0  # history kept
    assert not [d for d in NotifyTables(lab.store).downtimes() if d.host == "web01"]

    lab.hypervisor(WEB, DB)  # back (or moved back)
    lab.now += 60
    await lab.check("hyp1")
    assert [(c.action, c.host) for c in sync(lab.store, lab.now)[0].changes] == [("create", "web01")]
    assert main(["--home", home, "inventory", "log"]) == 0
    assert [line.split(" ", 3)[3].split(" (")[0] for line in capsys.readouterr().out.splitlines()] == [
        "create db01", "create web01", "retire web01", "remove web01", "create web01"]


async def test_a_retired_domain_that_returns_loses_its_downtime(lab: Lab) -> None:
    InventoryTables(lab.store).add_source(InventorySource("vms", "piggyback"))
    lab.hypervisor(WEB)
    await lab.check("hyp1")
    sync(lab.store, lab.now)
    lab.hypervisor()
    await lab.check("hyp1")
    sync(lab.store, lab.now)
    lab.hypervisor(WEB)
    await lab.check("hyp1")
    assert [c.action for c in sync(lab.store, lab.now)[0].changes] == ["return"]
    assert InventoryTables(lab.store).owned()["web01"].retired is None
    assert not [d for d in NotifyTables(lab.store).downtimes() if d.host == "web01"]


async def test_a_host_made_by_hand_is_never_touched(lab: Lab) -> None:
    lab.store.add_host(HostConfig("web01", "ssh://root@web01"))
    InventoryTables(lab.store).add_source(InventorySource("vms", "piggyback"))
    lab.hypervisor(WEB)
    await lab.check("hyp1")
    report = sync(lab.store, lab.now)[0]
    assert [(c.action, c.detail) for c in report.changes] == [
        ("conflict", "a host of this name exists and is not from an inventory")]
    assert lab.hosts()["web01"].uri == "ssh://root@web01"
    lab.hypervisor()
    await lab.check("hyp1")
    assert sync(lab.store, lab.now)[0].changes == []  # not its to retire
    assert InventoryTables(lab.store).log() == []


async def test_a_hypervisor_that_cannot_be_reached_retires_nothing(lab: Lab) -> None:
    InventoryTables(lab.store).add_source(InventorySource("vms", "piggyback"))
    lab.hypervisor(WEB, DB)
    await lab.check("hyp1")
    sync(lab.store, lab.now)
    (lab.path / "hyp1.txt").unlink()  # hyp1 DOWN: no output at all
    assert "Agent" in await lab.check("hyp1")
    assert sync(lab.store, lab.now)[0].changes == []
    assert sorted(InventoryTables(lab.store).owned()) == ["db01", "web01"]


async def test_a_hypervisor_removed_from_monitoring_has_its_domains_retired(lab: Lab) -> None:
    InventoryTables(lab.store).add_source(InventorySource("vms", "piggyback"))
    lab.hypervisor(WEB)
    await lab.check("hyp1")
    sync(lab.store, lab.now)
    lab.store.remove_host("hyp1")
    assert [(c.action, c.host) for c in sync(lab.store, lab.now)[0].changes] == [("retire", "web01")]
