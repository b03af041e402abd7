"""`watchkeeper patch plan` over a store as the daemon leaves it: each host's `APT updates`
memory made by the real check over apt's real output, a canary, a problem, a downtime window;
its Ansible inventory read back by Ansible's own `ansible-inventory` (Debian's ansible-core)."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.cli.test_cli import wk
from tests.conftest import missing
from watchkeeper.cli.main import main
from watchkeeper.model.cycles import HostCycle, Outcome
from watchkeeper.plugins.updates.apt import AptParams, PendingUpdates, check_apt, parse_apt
from watchkeeper.store.database import Store

APT = Path(__file__).parents[1] / "plugins" / "updates" / "fixtures" / "apt_get_s_upgrade" / "debian12-qq.txt"


def apt_memory(now: float, installed_first: bool = False) -> dict[str, object]:
    """What the `APT updates` check keeps after seeing apt's real dry run (and, for a canary,
    the same host after it installed libgcrypt20)."""
    pending = parse_apt([[line] for line in APT.read_text().splitlines()])
    store: dict[str, object] = {}
    list(check_apt("", AptParams(), pending, store, now - 5 * 86400))  # type: ignore[arg-type]
    if installed_first:
        rest = PendingUpdates(updates=[u for u in pending.updates if u.package != "libgcrypt20"])
        list(check_apt("", AptParams(), rest, store, now - 86400))  # type: ignore[arg-type]
    return store


@pytest.fixture
def fleet(tmp_path: Path) -> str:
    home = str(tmp_path / "home")
    assert main(["--home", home, "init", "--no-local"]) == 0
    agent = tmp_path / "agent.txt"
    agent.write_text("<<<check_mk>>>\nAgentOS: linux\n")
    for name, uri, labels in (
            ("web1", "ssh://deploy@web1.example.org:2222", {"exposure": "internet", "recovery": "snapshot"}),
            ("canary1", f"file://{agent}", {"recovery": "snapshot"}),
            ("nas1", f"file://{agent}", {"recovery": "rebuild", "users": "many"})):
        assert wk(home, "host", "add", name, uri, "--no-discover", "--option", f"labels={json.dumps(labels)}") == 0
    now = time.time()
    store = Store(Path(home) / "watchkeeper.db")
    store.write_cycles([HostCycle("nas1", now - 3600, True, "", [Outcome("Memory", 1, "RAM used: 85%")]),
                        # the canary's reboot after patching is no problem of the new versions
                        HostCycle("canary1", now - 1800, True, "", [Outcome("Reboot needed", 1, "reboot needed")])],
                       value_stores=[(host, "APT updates", json.dumps(apt_memory(now, host == "canary1")))
                                     for host in ("web1", "canary1", "nas1")])
    assert wk(home, "downtime", "add", "nas1", "--weekly", "sun 02:00-04:00", "--comment", "patch window") == 0
    return home


def test_a_canary_that_went_down_after_installing_is_no_canary(fleet: str, capsys: pytest.CaptureFixture[str]) -> None:
    store = Store(Path(fleet) / "watchkeeper.db")
    store.write_cycles([HostCycle("canary1", time.time() - 600, False, "no route to host", [])])
    capsys.readouterr()
    assert wk(fleet, "patch", "plan", "--json") == 0
    decided = {d["host"]: d for d in json.loads(capsys.readouterr().out)}
    assert not any("canary1" in reason for reason in decided["web1"]["reasons"])


def test_the_plan_decides_per_host_with_reasons(fleet: str, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert wk(fleet, "patch", "plan", "--json") == 0
    decided = {d["host"]: d for d in json.loads(capsys.readouterr().out)}
    assert decided["web1"]["decision"] == "patch now"
    assert "exposed to the internet (exposure=internet)" in decided["web1"]["reasons"]
    assert "1 of 135 already running without a new problem on canary1" in decided["web1"]["reasons"]
    assert decided["nas1"]["decision"] == "needs a window" and decided["nas1"]["next_window"] is not None
    assert len(decided["web1"]["security_updates"]) == 81 and "libgcrypt20" in decided["web1"]["security_updates"]
    assert wk(fleet, "patch", "plan") == 0
    shown = capsys.readouterr().out
    assert "web1: patch now\n    - " in shown and "nas1: needs a window (next window " in shown


@pytest.mark.parametrize("form", ["ini", "yaml"])
def test_the_ansible_inventory_is_read_by_ansible_itself(fleet: str, tmp_path: Path, form: str,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    if shutil.which("ansible-inventory") is None:
        missing("ansible-inventory (Debian package ansible-core)")
    capsys.readouterr()
    assert wk(fleet, "patch", "plan", "--ansible-inventory", "--format", form) == 0
    inventory = tmp_path / f"plan.{form}"
    inventory.write_text(capsys.readouterr().out)
    done = subprocess.run(["ansible-inventory", "-i", str(inventory), "--list"], capture_output=True, text=True,
                          timeout=120, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                                            "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true"})
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert sorted(seen["patchnow"]["hosts"]) == ["canary1", "web1"] and seen["patchwindow"]["hosts"] == ["nas1"]
    variables = seen["_meta"]["hostvars"]["web1"]
    assert (variables["ansible_host"], str(variables["ansible_port"]), variables["ansible_user"]) == (
        "web1.example.org", "2222", "deploy")
