"""The agent as a real process with its configuration file, and checks run on what it printed,
each service with its own value store kept between checks: how the real-cluster tests watch
their lab the way the daemon would."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.conftest import REPO
from watchkeeper.collect.sections import split_sections
from watchkeeper.engine.catalog import builtin_catalog
from watchkeeper.engine.checking import collapse, parse_host
from watchkeeper.model.cycles import Outcome

AGENT = REPO / "src" / "watchkeeper" / "agent" / "watchkeeper_agent.py"


class AgentMonitor:
    def __init__(self, config: Path, settings: dict[str, Any]) -> None:
        self.config = config
        self.config.write_text(json.dumps(settings))
        self.stores: dict[str, dict[str, Any]] = {}
        self.agent_seconds = 0.0
        """How long the last agent run took."""
        self.output = b""

    def check(self, plugin: Any, item: str = "") -> Outcome:
        return self.check_on(self.run(), plugin, item)

    def run(self) -> dict[str, Any]:
        """Run the agent once: the parsed sections of its output (the output is kept in `output`)."""
        started = time.monotonic()
        self.output = subprocess.run([sys.executable, "-I", str(AGENT), "--config", str(self.config)],
                                     capture_output=True, timeout=120).stdout
        self.agent_seconds = time.monotonic() - started
        return parse_host(builtin_catalog(), split_sections(self.output)).sections

    def check_on(self, sections: dict[str, Any], plugin: Any, item: str = "") -> Outcome:
        """Check one service on sections from `run`."""
        section = sections[plugin.section]
        name = plugin.service_name(item)
        store = self.stores.setdefault(name, {})
        return collapse(name, plugin.check(item, plugin.default_params, section, store, time.time()))
