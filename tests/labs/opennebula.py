"""An OpenNebula frontend's XML-RPC API on loopback, answering with real documents: Python's own
XML-RPC server (so the protocol on the wire is a real one), the `one.*pool.info` methods
answering `[true, document, 0]` with the captured documents of
tests/plugins/opennebula/fixtures/corpus (SOURCE.md there), and OpenNebula's own refusal
`[false, "[method] User couldn't be authenticated, aborting call.", 256]` to a wrong login.

    with OpenNebulaReplay(SESSION) as frontend:
        frontend.vms = frontend.vms.replace("<LCM_STATE>3<", "<LCM_STATE>39<")   # PROLOG_FAILURE
        OpenNebulaTransport("cloud", frontend.url, credentials_file)
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from xmlrpc.server import SimpleXMLRPCServer

CORPUS = Path(__file__).resolve().parents[1] / "plugins" / "opennebula" / "fixtures" / "corpus"
AUTHENTICATION = 0x0100
"""OpenNebula's error code for a login it does not accept."""


class OpenNebulaReplay:
    def __init__(self, session: str) -> None:
        self.session = session
        self.hosts = (CORPUS / "hostpool_4hosts_2error.xml").read_text().strip()
        self.vms = "<VM_POOL>" + (CORPUS / "vm60_running.xml").read_text().strip() + "</VM_POOL>"
        self.datastores = "<DATASTORE_POOL>" + (CORPUS / "datastore102_ceph.xml").read_text().strip() + \
            "</DATASTORE_POOL>"
        self.calls: list[str] = []
        self.server = SimpleXMLRPCServer(("127.0.0.1", 0), logRequests=False, allow_none=True)
        for method, answer in (("one.hostpool.info", self._hosts), ("one.vmpool.info", lambda: self.vms),
                               ("one.datastorepool.info", lambda: self.datastores)):
            self.server.register_function(self._method(method, answer), method)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/RPC2"
        self.thread = threading.Thread(target=self.server.serve_forever)
        self.thread.start()

    def _hosts(self) -> str:
        # a frontend that monitors its hosts: each was last monitored just now
        return re.sub(r"<LAST_MON_TIME>\d+</LAST_MON_TIME>", f"<LAST_MON_TIME>{int(time.time())}</LAST_MON_TIME>",
                      self.hosts)

    def _method(self, name: str, answer: Callable[[], str]) -> Callable[..., list[object]]:
        def call(session: str, *filters: int) -> list[object]:
            self.calls.append(name)
            if session != self.session:
                return [False, f"[{name}] User couldn't be authenticated, aborting call.", AUTHENTICATION]
            return [True, answer(), 0]
        return call

    def __enter__(self) -> OpenNebulaReplay:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
