"""Livestatus `COMMAND`s (Nagios external commands) mapped onto the same store functions the
CLI uses. A command has no answer in the protocol: what went wrong is logged."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from watchkeeper.errors import ConfigError
from watchkeeper.livestatus.query import Command
from watchkeeper.model.notifications import Acknowledgement, Downtime
from watchkeeper.store.active_tables import ActiveTables
from watchkeeper.store.database import Store
from watchkeeper.store.notify_tables import NotifyTables

log = logging.getLogger(__name__)

Reschedule = Callable[[str, str | None, float], bool]
"""(host, service or None for the host's agent and all its services, when) -> found."""

# name -> number of arguments
SHAPES = {
    "ACKNOWLEDGE_SVC_PROBLEM": 7, "ACKNOWLEDGE_HOST_PROBLEM": 6,
    "REMOVE_SVC_ACKNOWLEDGEMENT": 2, "REMOVE_HOST_ACKNOWLEDGEMENT": 1,
    "SCHEDULE_SVC_DOWNTIME": 9, "SCHEDULE_HOST_DOWNTIME": 8,
    "SCHEDULE_HOST_SVC_DOWNTIME": 8, "DEL_SVC_DOWNTIME": 1, "DEL_HOST_DOWNTIME": 1,
    "PROCESS_SERVICE_CHECK_RESULT": 4,
    "SCHEDULE_SVC_CHECK": 3, "SCHEDULE_FORCED_SVC_CHECK": 3,
    "SCHEDULE_HOST_CHECK": 2, "SCHEDULE_FORCED_HOST_CHECK": 2,
    "SCHEDULE_HOST_SVC_CHECKS": 2, "SCHEDULE_FORCED_HOST_SVC_CHECKS": 2,
}


RESCHEDULING = {name for name in SHAPES if name.startswith("SCHEDULE_") and "CHECK" in name}


def _arguments(command: Command) -> list[str]:
    count = SHAPES.get(command.name)
    if count is None:
        raise ConfigError(f"command {command.name} is not supported; supported: {', '.join(sorted(SHAPES))}")
    args = command.args
    if len(args) < count:
        raise ConfigError(f"{command.name} needs {count} arguments separated by ';', got {len(args)}")
    return args[:count - 1] + [";".join(args[count - 1:])]  # a comment or output may contain ';'


def reschedule(command: Command, call: Reschedule | None) -> str:
    args = _arguments(command)
    host, service = args[0], (args[1] if len(args) == 3 else None)
    if call is None or not call(host, service, _number(args[-1])):
        raise ConfigError(f"nothing to reschedule for {host} {service or ''}: not checked by this daemon")
    return f"rescheduled {host} {service or ''}".strip()


@dataclass(slots=True)
class CommandRunner:
    store: Store

    def run(self, command: Command) -> str:
        """Carry the command out; returns what was done (for the log), raises ConfigError."""
        args = _arguments(command)
        name = command.name
        notify = NotifyTables(self.store)
        if name.startswith("ACKNOWLEDGE_"):
            host, service = args[0], args[1] if name == "ACKNOWLEDGE_SVC_PROBLEM" else ""
            sticky, author, comment = args[-5], args[-2], args[-1]
            state, _ = notify.current_state(host, service)
            if state == 0:
                raise ConfigError(f"{host} {service or '(host)'} is OK: nothing to acknowledge")
            notify.acknowledge(Acknowledgement(host, service, state, author, comment, sticky == "2", None, time.time()))
            return f"acknowledged {host} {service}".strip()
        if name.startswith("REMOVE_"):
            host, service = args[0], args[1] if name == "REMOVE_SVC_ACKNOWLEDGEMENT" else ""
            notify.remove_acknowledgement(host, service)
            return f"removed the acknowledgement of {host} {service}".strip()
        if name.endswith("_DOWNTIME") and name.startswith("SCHEDULE"):
            pattern = args[1] if name == "SCHEDULE_SVC_DOWNTIME" else None
            start, end, fixed, _trigger, duration, author, comment = args[-7:]
            begin, finish = _number(start), _number(end)
            if fixed == "0":  # flexible: Watchkeeper's downtimes are windows; the duration from the start
                finish = min(finish, begin + _number(duration))
            if finish <= begin:
                raise ConfigError("the downtime ends before it starts")
            self.store.host(args[0])
            downtime_id = notify.add_downtime(Downtime(0, args[0], pattern, begin, finish, "", "UTC", author, comment))
            return f"downtime {downtime_id} for {args[0]} {pattern or ''}".strip()
        if name.startswith("DEL_"):
            notify.remove_downtime(int(_number(args[0])))
            return f"removed downtime {args[0]}"
        if name == "PROCESS_SERVICE_CHECK_RESULT":
            ActiveTables(self.store).submit(args[0], args[1], int(_number(args[2])), args[3].replace("\\n", "\n"))
            return f"result for {args[0]} {args[1]}"
        raise ConfigError(f"{name} changes the schedule, not the store")


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"{text!r} is not a number") from None
