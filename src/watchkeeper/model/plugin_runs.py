"""What one run of a Nagios plugin gave, wherever it ran (a helper on this machine, or a
session of a host's SSH connection)."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PLUGIN_TIMEOUT_S = 60.0
DEFAULT_PLUGIN_OUTPUT_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class PluginRun:
    """What one plugin run gave; exactly one of `exit_code`, `signal`, `timed_out`, `error` says how it ended."""

    stdout: bytes = b""
    stderr: bytes = b""
    exit_code: int | None = None
    signal: int | None = None
    timed_out: bool = False
    error: str = ""
    truncated: bool = False
    """It printed more than the limit: `stdout` holds the first `limit` bytes, the rest was read and dropped."""
    escaped: int = 0
    """Processes it started outside its process group that were still running and were killed."""
    limit: int = DEFAULT_PLUGIN_OUTPUT_BYTES
    seconds: float = 0.0
