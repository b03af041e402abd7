"""Active and passive services: what to run, where, how often; or how fresh a submitted
result must be."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from watchkeeper.errors import ConfigError
from watchkeeper.model.macros import check_macros
from watchkeeper.model.plugin_runs import DEFAULT_PLUGIN_TIMEOUT_S

ACTIVE_PLUGIN = "active"
PASSIVE_PLUGIN = "passive"
NOT_AGENT_PLUGINS = (ACTIVE_PLUGIN, PASSIVE_PLUGIN)
WHERE = ("server", "host")


@dataclass(frozen=True, slots=True)
class ActiveCheck:
    """A plugin run every `interval_s`; `on` is "server" (this machine, against the host's
    address) or "host" (on the monitored host, through its persistent SSH connection)."""

    host: str
    name: str
    argv: tuple[str, ...] = ()
    interval_s: float = 60.0
    retry_interval_s: float = 30.0
    max_attempts: int = 3
    timeout_s: float = DEFAULT_PLUGIN_TIMEOUT_S
    on: str = "server"
    passive: bool = False
    freshness_s: float = 0.0
    """Passive only: a result older than this turns the service to `stale_state`; 0 never."""
    stale_state: int = 3
    host_check: bool = False
    """Its result is the host's UP (OK, WARN) or DOWN, for hosts without an agent."""
    groups: tuple[str, ...] = ()
    """Service groups it belongs to (Livestatus `servicegroups`; from `import nagios` or `--group`)."""

    def __post_init__(self) -> None:
        what = f"{self.host}/{self.name}"
        if not self.name.strip() or any(ord(c) < 32 for c in self.name) or ";" in self.name:
            raise ConfigError(f"{what}: a service name needs a printable name without ';'")
        if any(not group.strip() or "," in group or any(ord(c) < 32 for c in group) for group in self.groups):
            raise ConfigError(f"{what}: a service group needs a printable name without ','")
        if self.passive:
            if self.argv:
                raise ConfigError(f"{what}: a passive service runs no command")
            if self.freshness_s and not 10 <= self.freshness_s <= 30 * 86400:
                raise ConfigError(f"{what}: freshness must be between 10 s and 30 days")
            if self.stale_state not in (0, 1, 2, 3):
                raise ConfigError(f"{what}: the stale state must be OK, WARN, CRIT or UNKNOWN")
            return
        if not self.argv:
            raise ConfigError(f"{what}: give the plugin and its arguments after `--`")
        check_macros(list(self.argv))
        if self.on not in WHERE:
            raise ConfigError(f"{what}: --on must be 'server' or 'host', not {self.on!r}")
        if not 1.0 <= self.interval_s <= 86400.0 or not 1.0 <= self.retry_interval_s <= 86400.0:
            raise ConfigError(f"{what}: intervals must be between 1 s and 1 day")
        if not 1 <= self.max_attempts <= 100:
            raise ConfigError(f"{what}: max attempts must be from 1 to 100")
        if not 0.1 <= self.timeout_s <= 3600:
            raise ConfigError(f"{what}: the timeout must be between 0.1 s and 1 h")

    @property
    def plugin(self) -> str:
        return PASSIVE_PLUGIN if self.passive else ACTIVE_PLUGIN

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        del data["host"], data["name"]
        data["argv"] = list(self.argv)
        data["groups"] = list(self.groups)
        if not self.groups:
            del data["groups"]
        return data

    @classmethod
    def from_json(cls, host: str, name: str, data: dict[str, Any]) -> ActiveCheck:
        fields = {key: value for key, value in data.items() if key in cls.__dataclass_fields__}
        fields["argv"] = tuple(fields.get("argv", ()))
        fields["groups"] = tuple(fields.get("groups", ()))
        return cls(host=host, name=name, **fields)
