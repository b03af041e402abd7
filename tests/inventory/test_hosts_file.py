"""A file of hosts as an inventory source: YAML and CSV, rows that cannot be hosts left out
and named, and a file that cannot be used (missing, half-written, empty, not YAML, hostile)
changing nothing at all."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watchkeeper.errors import ConfigError
from watchkeeper.inventory.hosts_file import read_hosts_file
from watchkeeper.inventory.sync import sync
from watchkeeper.model.hosts import HostConfig
from watchkeeper.model.inventory import InventorySource
from watchkeeper.store.database import Store
from watchkeeper.store.inventory_tables import InventoryTables

YAML = """\
# the storage lab
hosts:
  - name: web01
    address: ssh://root@web01
    labels: {role: web, site: b}
  - name: sw1
    address: snmp://sw1
    interval_s: 300
    options: {snmp_credentials: /etc/watchkeeper/sw1.snmp}
  - name: "bad name; rm -rf /"
    address: local
  - name: noaddress
  - name: web01
    address: tcp://web01
"""

CSV = """\
name,address,interval_s,labels
# a comment line
web01,ssh://root@web01,,role=web;site=b
sw1,snmp://sw1,300,role=switch
db01,gopher://db01,,
"""


def test_a_yaml_file_gives_its_hosts_and_names_the_rows_it_leaves_out(tmp_path: Path) -> None:
    path = tmp_path / "hosts.yaml"
    path.write_text(YAML)
    found = read_hosts_file(path, {"inventory": "lab"})
    assert sorted(found.hosts) == ["sw1", "web01"]
    assert found.hosts["web01"] == HostConfig("web01", "ssh://root@web01", 60.0,
                                              {"labels": {"inventory": "lab", "role": "web", "site": "b"}})
    assert found.hosts["sw1"].interval_s == 300 and found.hosts["sw1"].opts.snmp_credentials.endswith("sw1.snmp")
    assert found.problems[0].startswith("host 3: host name 'bad name; rm -rf /' is not valid")
    assert found.problems[1] == "host 4: noaddress has no address (local, ssh://user@host, tcp://host, " \
        "snmp://device, piggyback...)"
    assert found.problems[2] == "host 5: web01 is listed twice; the first is kept"


def test_a_csv_file_gives_its_hosts_and_names_the_rows_it_leaves_out(tmp_path: Path) -> None:
    path = tmp_path / "hosts.csv"
    path.write_text(CSV)
    found = read_hosts_file(path, {})
    assert sorted(found.hosts) == ["sw1", "web01"]
    assert found.hosts["web01"].opts.labels == {"role": "web", "site": "b"}
    assert found.hosts["sw1"].interval_s == 300
    assert len(found.problems) == 1 and found.problems[0].startswith("line 5: db01: address 'gopher://db01'")


@pytest.mark.parametrize("text, why", [
    ("", "lists no hosts"),
    ("hosts:\n  - name: web01\n    address: [unclosed\n", "not YAML"),
    ("just some words", "expected a list of hosts"),
    ("[" * 100_000, "nested too deeply"),
])
def test_a_file_that_cannot_be_used_changes_nothing(tmp_path: Path, text: str, why: str) -> None:
    path = tmp_path / "hosts.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=why):
        read_hosts_file(path, {})


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be read .No such file or directory.; its hosts are kept"):
        read_hosts_file(tmp_path / "gone.yaml", {})


def test_hosts_empty_retires_them_all_but_a_truncated_file_retires_none(tmp_path: Path) -> None:
    store = Store(tmp_path / "wk.db")
    path = tmp_path / "hosts.yaml"
    InventoryTables(store).add_source(InventorySource("lab", "file", path=str(path)))
    path.write_text(YAML)
    assert sorted(c.host for c in sync(store, 1000.0)[0].changes) == ["sw1", "web01"]
    assert {row.config.name: row.config.opts.labels.get("inventory") for row in store.hosts()} == {
        "sw1": "lab", "web01": "lab"}

    path.write_text(YAML[:20])  # half-written
    report = sync(store, 2000.0)[0]
    assert report.changes == [] and "its hosts are kept as they are" in report.problems[0]
    path.write_text("hosts: []\n")
    assert sorted((c.action, c.host) for c in sync(store, 3000.0)[0].changes) == [("retire", "sw1"),
                                                                                 ("retire", "web01")]


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.recursive(st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10**40), max_value=10**40),
                              st.floats(allow_nan=True), st.text(max_size=300)),
                    lambda inner: st.one_of(st.lists(inner, max_size=5),
                                            st.dictionaries(st.sampled_from(["name", "address", "interval_s",
                                                                             "labels", "options", "x"]),
                                                            inner, max_size=6)), max_leaves=40))
def test_any_yaml_document_is_read_or_refused_with_a_reason(tmp_path: Path, document: object) -> None:
    import yaml

    path = tmp_path / "any.yaml"
    path.write_text(yaml.safe_dump({"hosts": document} if isinstance(document, list) else document))
    try:
        found = read_hosts_file(path, {})
    except ConfigError:
        return
    assert all(isinstance(host, HostConfig) for host in found.hosts.values())


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=",;=\n\"#abc 1.:/", max_size=3000))
def test_any_csv_text_is_read_or_refused_with_a_reason(tmp_path: Path, text: str) -> None:
    path = tmp_path / "any.csv"
    path.write_text("name,address,labels\n" + text + "\nx" * 10_000)
    try:
        read_hosts_file(path, {})
    except ConfigError:
        pass
