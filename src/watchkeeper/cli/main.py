"""The `watchkeeper` command line (alias `wk`): the entry point. Each command lives in
`cli/commands/<noun>.py` with a `register(subparsers)`; helpers they share are in
`cli/common.py`. Nothing imports this module but the console scripts."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from watchkeeper import __version__
from watchkeeper.cli.commands import (
    alerting,
    baselines,
    hosts,
    inventory,
    looking,
    nagios_import,
    patching,
    plugin_mode,
    rules,
    run,
    services,
    setup,
    web_access,
)
from watchkeeper.cli.common import record_changes
from watchkeeper.errors import WatchkeeperError
from watchkeeper.paths import PRIVATE_UMASK

COMMANDS = (setup, hosts, inventory, run, looking, plugin_mode, alerting, services, web_access, nagios_import, rules,
            baselines, patching)
"""In the order `watchkeeper --help` lists them."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="watchkeeper", description="Infrastructure monitoring.")
    parser.add_argument("--home", help="state directory (default: $WATCHKEEPER_HOME or ~/.local/state/watchkeeper)")
    parser.add_argument("--version", action="version", version=f"watchkeeper {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    # Everything after `--` is a plugin's own argv, kept word for word (argparse would mix
    # it with our options when they come after the service name).
    tail: list[str] | None = None
    if "--" in words:
        at = words.index("--")
        words, tail = words[:at], words[at + 1:]
    args = build_parser().parse_args(words)
    if tail is not None:
        if not hasattr(args, "plugin_argv"):
            print(f"watchkeeper: `--` is only for plugin commands; {args.command} takes none", file=sys.stderr)
            return 2
        args.plugin_argv = tail
    umask = os.umask(PRIVATE_UMASK)  # whatever Watchkeeper writes (store, keys, plugin state) is its user's alone
    try:
        return int(args.func(args))
    except WatchkeeperError as exc:
        print(f"watchkeeper: {exc}", file=sys.stderr)
        return 3 if args.command in ("check", "plugin") else 2
    except ValueError as exc:  # parameter and level errors carry their own explanation
        print(f"watchkeeper: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    finally:
        if args.command not in LONG_RUNNING:
            record_changes(words + ([] if tail is None else ["--", *tail]), command_name(args))
        os.umask(umask)  # main() is also called in-process (tests, plugin mode): leave the caller's umask


LONG_RUNNING = ("run",)
"""Commands whose own changes (the daemon accepting a new host's services) are no one's edit."""


def command_name(args: argparse.Namespace) -> str:
    """`host add`, `notify channel add`: the command and its subcommands."""
    return " ".join([args.command, *(value for key, value in vars(args).items()
                                     if key.endswith("_command") and isinstance(value, str))])


if __name__ == "__main__":
    sys.exit(main())
