"""Continued lines (a backslash at the end) in real configurations from public bug reports, read
as Nagios 4 reads them: Debian's `nagios4 -v` checks the same configuration, and the import must
see every object Nagios sees. A file the configuration names but nobody can read stops the
import, and a file that is no object file is refused without showing what is in it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import fixtures, missing
from watchkeeper.cli.main import main
from watchkeeper.nagios_import.mapping import map_config
from watchkeeper.nagios_import.objects import logical_lines, read_config

CONTINUATIONS = fixtures(__file__) / "continuations"
MEMBERS = ["dns01.zrh01", "pbx01.zrh01", "pbx02.zrh01", "pbx03.zrh01", "pbx04.zrh01", "sips01.zrh01",
           "srtp01.zrh01.ch", "srtp02.zrh01.ch", "sqlproxy01.zrh01"]
DEBIAN_OBJECTS = ["commands", "contacts", "timeperiods", "templates"]


def configuration(directory: Path) -> Path:
    """The three real excerpts, with the hosts and contact they name, on Debian's stock objects."""
    for fixture in CONTINUATIONS.glob("*.cfg"):
        shutil.copy(fixture, directory / fixture.name)
    hosts = "".join(f"define host {{\n    use linux-server\n    host_name {name}\n    address 192.0.2.1\n}}\n"
                    for name in MEMBERS)
    # A service whose check_command is continued, applied through the continued host group.
    hosts += ("define service {\n    use generic-service\n    hostgroup_name zrh01.ch\n"
              "    service_description PING\n    check_command check_ping!100.0,20%!\\\n500.0,60%\n}\n"
              "define contact {\n    use generic-contact\n    contact_name armin.gruner.sms\n"
              "    email sms@example.org\n}\n")
    (directory / "hosts.cfg").write_text(hosts)
    spool = directory / "spool"
    spool.mkdir()
    spool.chmod(0o777)  # nagios4 -v checks that its user could write results there
    lines = [f"cfg_file=/etc/nagios4/objects/{name}.cfg" for name in DEBIAN_OBJECTS]
    lines += ["cfg_dir=/etc/nagios-plugins/config", "resource_file=/etc/nagios4/resource.cfg"]
    lines += [f"cfg_file={path}" for path in sorted(directory.glob("*.cfg"))]
    lines += [f"check_result_path={spool}", f"lock_file={directory}/lock", f"temp_file={directory}/tmp",
              f"status_file={directory}/status.dat", f"log_file={directory}/nagios.log",
              "illegal_macro_output_chars=`~$&|'\"<>"]
    main_cfg = directory / "nagios.cfg"
    main_cfg.write_text("\n".join(lines) + "\n")
    for path in directory.glob("*.cfg"):
        path.chmod(0o644)  # Nagios reads them as its own user
    return main_cfg


def nagios_counts(main_cfg: Path) -> dict[str, int]:
    binary = shutil.which("nagios4") or "/usr/sbin/nagios4"
    if not os.path.exists(binary) or not Path("/etc/nagios-plugins/config").is_dir():
        missing("Nagios 4 with the plugins' command definitions (Debian packages nagios4-core, monitoring-plugins)")
    done = subprocess.run([binary, "-v", str(main_cfg)], capture_output=True, text=True, timeout=120)
    assert "Total Errors:   0" in done.stdout, done.stdout
    return {kind: int(count) for count, kind in re.findall(r"Checked (\d+) ([a-z ]+?)\.", done.stdout)}


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory Nagios can read after it drops root for its own user (pytest's tmp_path is 0700)."""
    with tempfile.TemporaryDirectory(prefix="wk-nagios-") as name:
        directory = Path(name)
        directory.chmod(0o755)
        yield directory


def test_the_import_sees_every_object_nagios_sees(shared_dir: Path) -> None:
    main_cfg = configuration(shared_dir)
    seen = nagios_counts(main_cfg)
    report = map_config(read_config(main_cfg))
    assert report.read["host"] == seen["hosts"] == 9
    assert report.read["hostgroup"] == seen["host groups"] == 1
    assert report.read["contactgroup"] == seen["contact groups"] == 2
    assert report.read["command"] == seen["commands"]
    ping = [check for check in report.checks if check.name == "PING"]
    assert len(ping) == seen["services"] == 9
    assert ping[0].argv[-4:] == ("-w", "100.0,20%", "-c", "500.0,60%")  # the continued check_command
    assert all(host.options["labels"] == {"hostgroups": "zrh01.ch"} for host in report.hosts)
    assert report.lines()[0].startswith(f"read {sum(report.read.values())} objects from {report.files} files (")


def test_a_line_ending_in_two_backslashes_is_not_continued() -> None:
    text = (CONTINUATIONS / "nagioscore_issue_819_command_ending_in_two_backslashes.cfg").read_text()
    assert [line.strip() for _, line in logical_lines(text)][2] == r"command_line    $USER1$/check_dummy 0 K:\\"
    assert len(logical_lines(text)) == 4


def test_an_unreadable_file_stops_the_import_and_a_foreign_file_is_not_shown(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main_cfg = tmp_path / "nagios.cfg"
    main_cfg.write_text(f"cfg_file={tmp_path}/missing.cfg\n")
    assert main(["--home", str(tmp_path / "home"), "import", "nagios", str(main_cfg)]) == 2
    out = capsys.readouterr().out
    assert out.startswith("Nothing imported:") and f"cannot read cfg_file {tmp_path}/missing.cfg" in out
    assert not (tmp_path / "home" / "watchkeeper.db").exists()

    secret = tmp_path / "secret"
    secret.write_text("root:$y$j9T$notarealhash:19000:0:99999:7:::\n")
    main_cfg.write_text(f"cfg_file={secret}\n")
    assert main(["--home", str(tmp_path / "home"), "import", "nagios", str(main_cfg), "--dry-run"]) != 0
    captured = capsys.readouterr()
    assert "notarealhash" not in captured.out + captured.err
    assert f"{secret}:1: text outside any `define` block" in captured.out + captured.err
