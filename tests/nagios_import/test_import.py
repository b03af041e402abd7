"""`watchkeeper import nagios` on Debian's own nagios4 configuration, on a configuration that
uses every inheritance and host-list rule, and on a generated 1,000-host configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import missing
from watchkeeper.cli.main import main
from watchkeeper.errors import ConfigError
from watchkeeper.model.active_checks import ActiveCheck
from watchkeeper.nagios_import.mapping import HOST_CHECK, ImportReport, map_config
from watchkeeper.nagios_import.objects import parse_objects, read_config
from watchkeeper.store.active_tables import ActiveTables
from watchkeeper.store.database import Store

DEBIAN_NAGIOS = Path("/etc/nagios4/nagios.cfg")


def imported(main_cfg: Path) -> tuple[ImportReport, dict[tuple[str, str], ActiveCheck]]:
    report = map_config(read_config(main_cfg))
    return report, {(c.host, c.name): c for c in report.checks}


def write(directory: Path, objects: str, extra_main: str = "") -> Path:
    (directory / "objects.cfg").write_text(objects)
    (directory / "resource.cfg").write_text("$USER1$=/usr/lib/nagios/plugins\n$USER3$=s3cret\n")
    main_cfg = directory / "nagios.cfg"
    main_cfg.write_text(f"cfg_file=objects.cfg\nresource_file=resource.cfg\ninterval_length=60\n{extra_main}")
    return main_cfg


def test_debian_default_configuration() -> None:
    if not DEBIAN_NAGIOS.exists():
        missing("Debian's nagios4 configuration (package nagios4-core)")
    report, checks = imported(DEBIAN_NAGIOS)
    [host] = report.hosts
    assert (host.name, host.uri, host.options["address"]) == ("localhost", "none", "127.0.0.1")
    assert host.options["labels"] == {"hostgroups": "linux-servers"}
    assert {name for _, name in checks} == {HOST_CHECK, "PING", "Root Partition", "Current Users", "Total Processes",
                                            "Current Load", "Swap Usage", "SSH", "HTTP"}
    disk = checks[("localhost", "Root Partition")]
    assert disk.argv == ("/usr/lib/nagios/plugins/check_disk", "-w", "20%", "-c", "10%", "-p", "/")
    assert (disk.interval_s, disk.retry_interval_s, disk.max_attempts) == (300.0, 60.0, 4)  # local-service
    alive = checks[("localhost", HOST_CHECK)]
    assert alive.host_check and alive.argv[0].endswith("check_ping") and "$HOSTADDRESS$" in alive.argv
    assert report.contacts == {"nagiosadmin": "nagios@localhost"}
    assert ("localhost", "SSH") in report.silenced
    lines = report.lines()
    assert any(line.startswith("not mapped: timeperiod (5 times") for line in lines)
    assert not any(line.startswith("not imported") for line in lines), lines


def test_templates_inheritance_and_host_lists(tmp_path: Path) -> None:
    main_cfg = write(tmp_path, r"""
define command {
    command_name  check_tcp_port
    command_line  $USER1$/check_tcp -H $HOSTADDRESS$ -p $ARG1$ -s '$ARG2$'   ; a comment
}
define command {
    command_name  check_pipe
    command_line  /usr/bin/check_x | grep OK
}
define command {
    command_name  check_secret
    command_line  $USER1$/check_http -a $USER3$ -u "/a path\;b"
}
define host {
    name                a-template
    check_interval      2
    max_check_attempts  7
    hostgroups          base
    register            0
}
define host {
    name                b-template
    check_interval      9
    retry_interval      3
    max_check_attempts  2
    register            0
}
define host {
    use                 a-template,b-template   ; a wins where both set a value
    host_name           web1
    address             10.0.0.1
    hostgroups          +web
}
define host {
    use                 b-template
    host_name           web2
    address             10.0.0.2
    hostgroups          web
    retry_interval      null
}
define host {
    use                 b-template
    host_name           db1
    hostgroups          db
}
define host {
    host_name           bad name!
}
define hostgroup {
    hostgroup_name      all-web
    hostgroup_members   web
}
define service {
    name                svc-template
    check_interval      1
    retry_interval      0.5
    max_check_attempts  5
    register            0
}
define service {
    use                 svc-template
    hostgroup_name      all-web,db
    host_name           !web2
    service_description SMTP
    check_command       check_tcp_port!25!220 ESMTP
}
define service {
    use                 svc-template
    host_name           *
    service_description Piped
    check_command       check_pipe
}
define service {
    host_name           web2
    service_description Secret
    check_command       check_secret
}
define service {
    host_name           db1
    service_description Backup
    active_checks_enabled   0
    passive_checks_enabled  1
    check_freshness     1
    freshness_threshold 93600
}
define service {
    host_name           db1
    service_description Nothing
    check_command       no_such_command!1
}
define service {
    use                 no-such-template
    host_name           db1
    service_description Orphan
    check_command       check_tcp_port!22
}
define servicedependency {
    host_name           web1
}
""")
    report, checks = imported(main_cfg)
    hosts = {h.name: h for h in report.hosts}
    assert sorted(hosts) == ["db1", "web1", "web2"]
    assert hosts["web1"].interval_s == 120.0  # a-template is listed first: its 2 minutes win over b's 9
    assert hosts["web1"].options["labels"] == {"hostgroups": "all-web,base,web"}  # '+' added to the template's
    assert hosts["db1"].options["address"] == "db1"  # no address: the name
    assert sorted(host for host, name in checks if name == "SMTP") == ["db1", "web1"]  # web2 excluded by '!'
    smtp = checks[("web1", "SMTP")]
    assert smtp.argv == ("/usr/lib/nagios/plugins/check_tcp", "-H", "$HOSTADDRESS$", "-p", "25", "-s", "220 ESMTP")
    assert (smtp.interval_s, smtp.retry_interval_s, smtp.max_attempts) == (60.0, 30.0, 5)
    assert checks[("web2", "Secret")].argv == ("/usr/lib/nagios/plugins/check_http", "-a", "s3cret", "-u",
                                               "/a path;b")
    backup = checks[("db1", "Backup")]
    assert backup.passive and backup.freshness_s == 93600.0
    assert ("db1", "Orphan") in checks  # the missing template is reported, the service still comes
    problems = "\n".join(report.problems)
    assert "host 'bad name!'" in problems
    assert "'Piped' on web1" in problems and "command 'check_pipe' needs a shell" in problems
    assert "'Nothing' on db1" in problems and "command 'no_such_command' is not defined" in problems
    assert "template 'no-such-template' (service) is not defined" in problems
    assert any(line.startswith("not mapped: servicedependency (1 time") for line in report.lines())


def test_template_loops_and_unclosed_blocks_are_reported(tmp_path: Path) -> None:
    report, _ = imported(write(tmp_path, """
define host {
    name a
    use b
    register 0
}
define host {
    name b
    use a
    register 0
}
define host {
    use a
    host_name h1
}
"""))
    assert any("templates use each other in a loop" in p for p in report.problems)
    with pytest.raises(ConfigError, match=r"x.cfg:2: this `define host` is never closed"):
        parse_objects("\ndefine host {\n host_name h\n", "x.cfg")
    with pytest.raises(ConfigError, match=r"x.cfg:1: text outside any `define` block"):
        parse_objects("host_name h\n", "x.cfg")


def generate(directory: Path, hosts: int, services: int) -> Path:
    lines = ["define command {\n command_name check_dummy\n command_line $USER1$/check_dummy $ARG1$ $ARG2$\n}",
             "define host {\n name generic\n check_interval 1\n max_check_attempts 3\n register 0\n}",
             "define service {\n name generic-svc\n check_interval 1\n retry_interval 1\n register 0\n}"]
    for h in range(hosts):
        lines.append(f"define host {{\n use generic\n host_name host{h:04d}\n address 10.{h // 250}.{h % 250}.1\n"
                     f" hostgroups {'even' if h % 2 == 0 else 'odd'}\n}}")
    for s in range(services):
        lines.append(f"define service {{\n use generic-svc\n hostgroup_name even,odd\n"
                     f" service_description Service {s}\n check_command check_dummy!0!all well {s}\n}}")
    return write(directory, "\n".join(lines) + "\n")


def test_a_generated_thousand_host_configuration_imports_whole(tmp_path: Path) -> None:
    main_cfg = generate(tmp_path, 1000, 10)
    home = str(tmp_path / "home")
    assert main(["--home", home, "init", "--no-local"]) == 0
    assert main(["--home", home, "import", "nagios", str(main_cfg)]) == 0
    store = Store(tmp_path / "home" / "watchkeeper.db")
    assert len(store.hosts()) == 1000
    checks = ActiveTables(store).checks()
    assert len(checks) == 1000 * 10
    first = next(c for c in checks if c.host == "host0007" and c.name == "Service 3")
    assert first.argv == ("/usr/lib/nagios/plugins/check_dummy", "0", "all", "well", "3")  # split as Nagios does
    assert main(["--home", home, "import", "nagios", str(main_cfg)]) == 0  # again: updated, not doubled
    assert len(ActiveTables(store).checks()) == 10_000 and len(store.hosts()) == 1000


def test_service_groups_with_nested_groups_and_a_cycle(tmp_path: Path) -> None:
    main_cfg = write(tmp_path, """
define command {
    command_name check_dummy
    command_line $USER1$/check_dummy 0
}
define host {
    host_name   store1
    address     127.0.0.1
}
define service {
    host_name           store1
    service_description Pool
    check_command       check_dummy
}
define service {
    host_name           store1
    service_description Backup
    check_command       check_dummy
}
define servicegroup {
    servicegroup_name     storage
    members               store1,Pool
    servicegroup_members  everything
}
define servicegroup {
    servicegroup_name     everything
    members               store1,Backup
    servicegroup_members  storage
}
define servicegroup {
    servicegroup_name     pools
    members               store1,Pool
}
""")
    _, checks = imported(main_cfg)
    assert checks[("store1", "Pool")].groups == ("everything", "pools", "storage")
    assert checks[("store1", "Backup")].groups == ("everything", "storage")
