"""Watchkeeper's exceptions. Raw OS, network and parse errors are translated into these
where they are understood, with a message that says what happened and what to try next.

    WatchkeeperError
    ├── CollectError            no usable agent output from a host this cycle
    │   ├── AgentUnreachable    connection refused or timed out, host not resolvable
    │   ├── AgentAuthFailed     the SSH server refused our key for that user
    │   ├── HostKeyRejected     the host key is unknown or has changed
    │   └── AgentFailed         connected, but the agent exited with an error or printed nothing
    ├── ConfigError             a host, URI, rule or parameter given by the user is not valid
    │   └── NotFound            a named host, service, rule, downtime or token does not exist
    ├── StoreError              the store cannot be opened or written (locked, corrupt, disk full)
    └── DaemonNotRunning        a command that needs the running daemon found none
"""


class WatchkeeperError(Exception):
    """Base of all errors that Watchkeeper reports to its user."""


class CollectError(WatchkeeperError):
    """No usable agent output from a host in this cycle."""


class AgentUnreachable(CollectError):
    pass


class AgentAuthFailed(CollectError):
    pass


class HostKeyRejected(CollectError):
    pass


class AgentFailed(CollectError):
    pass


class ConfigError(WatchkeeperError):
    pass


class StoreError(WatchkeeperError):
    pass


class NotFound(ConfigError):
    """A named host, service, rule, downtime or token does not exist."""


class DaemonNotRunning(WatchkeeperError):
    """A command that needs the running daemon (check now) found none to ask."""
