"""An OpenNebula frontend (a replay of a real one's XML-RPC answers, tests/labs/opennebula.py)
as an inventory source: each VM becomes a host labelled with the host it runs on, that host's
cluster, its owner and template, and carries its own `OpenNebula VM` service; each OpenNebula
host becomes a host with its own `OpenNebula host` service."""

from __future__ import annotations

from pathlib import Path

from tests.labs.opennebula import OpenNebulaReplay
from watchkeeper.inventory.sync import sync
from watchkeeper.model.hosts import HostConfig
from watchkeeper.model.inventory import InventorySource
from watchkeeper.paths import Paths
from watchkeeper.schedule.scheduler import Scheduler
from watchkeeper.store.database import Store
from watchkeeper.store.inventory_tables import InventoryTables

SESSION = "oneadmin:opennebula-test"


async def test_each_vm_of_the_frontend_becomes_a_labelled_host_with_its_vm_service(tmp_path: Path) -> None:
    login = tmp_path / "one_auth"
    login.write_text(SESSION + "\n")
    login.chmod(0o600)
    store = Store(tmp_path / "wk.db")
    with OpenNebulaReplay(SESSION) as frontend:
        store.add_host(HostConfig("cloud", frontend.url.replace("http://", "one://"),
                                  options={"credentials_file": str(login)}))
        InventoryTables(store).add_source(InventorySource("one", "piggyback", source_hosts="cloud"))
        scheduler = Scheduler(store, Paths(tmp_path))
        await scheduler.reload()
        await scheduler.check_host(scheduler.hosts["cloud"])
    [report] = sync(store, 1_796_025_000.0)
    assert [(c.action, c.host) for c in report.changes] == [("create", name) for name in (
        "hyp101", "hyp102", "hyp103", "hyp104", "testttylinux-60")]
    vm = store.host("testttylinux-60").config
    assert vm.uri == "piggyback"
    assert vm.opts.labels == {"hypervisor": "hyp101", "opennebula_owner": "oneadmin", "opennebula_template": "4",
                              "piggyback_source": "cloud", "inventory": "one"}
    await scheduler.reload()
    cycle = await scheduler.check_host(scheduler.hosts["testttylinux-60"])
    found = {o.name: o for o in cycle.outcomes}
    assert found["OpenNebula VM testttylinux-60"].state == 0
    assert "RUNNING on hyp101" in found["OpenNebula VM testttylinux-60"].summary
    assert store.host("hyp103").config.opts.labels["opennebula_role"] == "host"
    found = {o.name: o for o in (await scheduler.check_host(scheduler.hosts["hyp101"])).outcomes}
    # as the frontend's own `OpenNebula host hyp101` says (tests/plugins/opennebula)
    assert found["OpenNebula host"].state == 0
    assert "fits 7 more VMs of 1 CPU and 512.00 MiB" in found["OpenNebula host"].summary
    found = {o.name: o for o in (await scheduler.check_host(scheduler.hosts["hyp103"])).outcomes}
    assert found["OpenNebula host"].state == 2 and "Error monitoring Host hyp103" in found["OpenNebula host"].summary
    assert "OpenNebula capacity" not in found
