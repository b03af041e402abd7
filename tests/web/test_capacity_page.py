"""The capacity page over real HTTP, from what real capacity services said: two libvirt
hypervisors (the agent's capture of libvirt's test driver) labelled into one cluster, and an
OpenNebula frontend (the replay of a real one) with a cluster and a datastore: VMs that still
fit per hypervisor and cluster, and each datastore's fill."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.labs.opennebula import OpenNebulaReplay
from tests.web.served import PASSWORD, served
from watchkeeper.model.hosts import HostConfig
from watchkeeper.paths import Paths
from watchkeeper.schedule.scheduler import Scheduler
from watchkeeper.store.database import Store
from watchkeeper.store.web_tables import WebTables

HYPERVISOR = Path(__file__).parents[1] / "plugins" / "hypervisors" / "fixtures" / "lab" / "three-domains.agent.txt"
SESSION = "oneadmin:opennebula-test"


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def test_the_capacity_page_says_how_many_more_vms_fit_per_hypervisor_cluster_and_cloud(tmp_path: Path) -> None:
    login = tmp_path / "one_auth"
    login.write_text(SESSION + "\n")
    login.chmod(0o600)
    store = Store(tmp_path / "wk.db")
    WebTables(store).set_user("alice", PASSWORD, "read")
    for name in ("kvm1", "kvm2"):
        store.add_host(HostConfig(name, f"file://{HYPERVISOR}", options={"labels": {"cluster": "rack1"}}))
    with OpenNebulaReplay(SESSION) as frontend:
        frontend.hosts = frontend.hosts.replace("<CLUSTER_ID>-1</CLUSTER_ID><CLUSTER></CLUSTER>",
                                                "<CLUSTER_ID>100</CLUSTER_ID><CLUSTER>production</CLUSTER>", 2)
        store.add_host(HostConfig("cloud", frontend.url.replace("http://", "one://"),
                                  options={"credentials_file": str(login)}))
        scheduler = Scheduler(store, Paths(tmp_path))
        await scheduler.reload()
        for host in ("kvm1", "kvm2", "cloud"):
            await scheduler.check_host(scheduler.hosts[host])
        scheduler.sink.flush_now()
    with served(tmp_path / "wk.db") as url, httpx.Client(base_url=url, timeout=30) as client:
        assert client.post("/login", data={"name": "alice", "password": PASSWORD, "next": "/"}).status_code == 303
        page = client.get("/capacity")
    assert page.status_code == 200
    shown = text(page.text)
    # each hypervisor fits 25 more VMs of 4 vCPUs and 4 GiB (tests/plugins/hypervisors): 50 in rack1
    assert "Clusters Cluster Hypervisors VMs that still fit Soonest full rack1 2 50" in shown
    assert re.search(r"kvm1 rack1 25 - ", shown) and re.search(r"kvm2 rack1 25 - ", shown)
    # OpenNebula: the cloud fits 15, the production cluster (hyp101 and hyp102) 15 as well
    assert "OpenNebula capacity 15" in shown and "OpenNebula cluster production 15" in shown
    # least room first; a host in ERROR takes no VM, and says why
    assert re.search(r"OK OpenNebula host hyp101 - 7 - .* OK OpenNebula host hyp102 - 8 - .* OK kvm1 rack1 25 - .*"
                     r"CRIT OpenNebula host hyp103 - - - ERROR: Wed Sep 10", shown)
    assert "OpenNebula datastore ceph.altaria 0.3% " in shown
