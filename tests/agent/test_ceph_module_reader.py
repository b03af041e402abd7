"""The agent's reader of Ceph's mgr `prometheus` module, against real scrapes served on loopback
(tests/plugins/ceph/fixtures/mgr_prometheus/SOURCE.md) and against a module that hangs, answers
without end or prints junk: which lines go to which section, when the module is trusted (a
healthy, settled cluster whose collections keep coming), and that every failure means `ceph`
is asked instead. The whole path against a real cluster is in tests/plugins/ceph/test_ceph_cluster.py."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from watchkeeper.agent import watchkeeper_agent as agent

SCRAPES = Path(__file__).resolve().parents[1] / "plugins" / "ceph" / "fixtures" / "mgr_prometheus"
COLLECTIONS = 'ceph_prometheus_collect_duration_seconds_count{method="get_health"}'


class Module:
    """An HTTP server on loopback answering /metrics with whatever `body` produces."""

    def __init__(self) -> None:
        self.body: Callable[[BaseHTTPRequestHandler], None] = lambda handler: None
        self.release = threading.Event()
        module = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
                module.body(self)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/metrics"
        self.thread = threading.Thread(target=self.server.serve_forever)
        self.thread.start()

    def serve(self, text: str) -> None:
        def body(handler: BaseHTTPRequestHandler) -> None:
            data = text.encode()
            handler.send_response(200)
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        self.body = body

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def module() -> Iterator[Module]:
    served = Module()
    try:
        yield served
    finally:
        served.close()


def scrape(name: str, collections: int = 13) -> str:
    return (SCRAPES / name).read_text() + f"{COLLECTIONS} {collections}.0\n"


def test_a_healthy_settled_scrape_is_sorted_into_the_three_sections(module: Module) -> None:
    module.serve(scrape("healthy-muted.prom"))
    sections, collections = agent._ceph_scrape(module.url, 5)
    assert collections == 13 and sections is not None
    status, pools, osds = (sections[name] for name in ("ceph_status_metrics", "ceph_df_metrics",
                                                       "ceph_osd_df_metrics"))
    assert 'ceph_health_detail{name="OSDMAP_FLAGS",severity="HEALTH_WARN"} 1.0' in status
    assert 'ceph_osd_up{ceph_daemon="osd.2"} 1.0' in status
    assert not any(line.startswith("ceph_pg_degraded") for line in status)  # zero flags are left out
    assert any(line.startswith('ceph_pool_metadata{pool_id="2",name="data"') for line in pools)
    assert any(line.startswith('ceph_osd_stat_bytes_used{ceph_daemon="osd.0"}') for line in osds)
    assert not any(line.startswith(("ceph_bluestore", "ceph_osd_op_")) for lines in sections.values() for line in lines)
    assert sum(map(len, sections.values())) < 80  # of 1,566 lines


@pytest.mark.parametrize("name", ["osd2-down.prom", "module-just-enabled.prom"])
def test_a_scrape_that_is_not_all_well_has_ceph_asked(module: Module, name: str) -> None:
    # OSD_DOWN and HEALTH_WARN; a module that counts no placement group active yet
    module.serve(scrape(name))
    sections, collections = agent._ceph_scrape(module.url, 5)
    assert sections is None and collections == 13


def test_copies_not_where_they_belong_have_ceph_asked_though_health_is_ok(module: Module) -> None:
    module.serve(scrape("healthy-muted.prom").replace("ceph_num_objects_misplaced 0.0",
                                                       "ceph_num_objects_misplaced 40.0"))
    assert agent._ceph_scrape(module.url, 5)[0] is None


def test_a_module_that_hangs_answers_without_end_or_prints_junk_fails_within_the_limit(module: Module) -> None:
    module.body = lambda handler: (module.release.wait(30), None)[1]  # bounded: released at teardown
    with pytest.raises(OSError):
        agent._ceph_scrape(module.url, 0.5)

    def endless(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.end_headers()
        line = b'ceph_osd_up{ceph_daemon="osd.0"} 1.0\n' * 1000
        for _ in range(20000):  # bounded: 740 MB at most, stopped by the reader long before
            if module.release.is_set():
                return
            try:
                handler.wfile.write(line)
            except OSError:
                return
    module.body = endless
    original = agent.CEPH_METRICS_MAX_BYTES
    agent.CEPH_METRICS_MAX_BYTES = 1 << 20
    try:
        with pytest.raises(ValueError, match="longer than"):
            agent._ceph_scrape(module.url, 5)
    finally:
        agent.CEPH_METRICS_MAX_BYTES = original
    module.serve("ceph_health_status not-a-number\n")
    with pytest.raises(ValueError):
        agent._ceph_scrape(module.url, 5)


def test_the_module_is_trusted_only_while_its_collections_keep_coming(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(agent.CONFIG, "state_dir", str(tmp_path))
    monkeypatch.setitem(agent.CONFIG, "ceph", {"prometheus_scrape_interval_s": 15})
    clock = [1_796_000_000.0]
    monkeypatch.setattr("watchkeeper.agent.watchkeeper_agent.time.time", lambda: clock[0])

    def after(seconds: float, collections: float | None) -> bool:
        clock[0] += seconds
        return agent._ceph_metrics_fresh("cluster", collections)

    assert not after(0, 10)  # nothing to compare with yet
    assert after(60, 14)  # four collections a minute, as due
    assert not after(60, 14)  # none since: the mgr lost its monitors and serves its last one
    assert not after(60, 15)  # one where four were due: the rest of the minute is unaccounted for
    assert after(30, 17)
    assert not after(5, 17)  # runs faster than the module gathers: `ceph` is asked meanwhile
    assert not after(60, 2)  # a restarted mgr counts from 0
    assert after(60, 6)
    assert not after(60, None)  # a module too old to count its collections is never trusted
    assert not after(-3600, 30)  # the clock set back
    state = next((tmp_path / "cache").iterdir())
    assert state.stat().st_mode & 0o777 == 0o600 and (tmp_path / "cache").stat().st_mode & 0o777 == 0o700


def test_without_a_module_or_reachable_mgr_ceph_is_asked_and_the_address_asked_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: Module) -> None:
    monkeypatch.setitem(agent.CONFIG, "state_dir", str(tmp_path))
    monkeypatch.setitem(agent.CONFIG, "ceph", {})
    asked: list[list[str]] = []
    answers = {"mgr services": {"prometheus": module.url.removesuffix("metrics")},
               "osd dump": {"full_ratio": 0.95, "backfillfull_ratio": 0.9, "nearfull_ratio": 0.85}}

    def ask(args: list[str], keep: tuple[str, ...] | None = None) -> tuple[object, str | None]:
        asked.append(args)
        return answers[" ".join(args)], None

    module.serve(scrape("healthy-muted.prom", 13))
    out: list[str] = []
    assert not agent._ceph_from_metrics(out, ask, ["ceph"], 5)  # the first look: nothing to compare with
    module.serve(scrape("healthy-muted.prom", 14))  # the next run, a collection later
    assert agent._ceph_from_metrics(out, ask, ["ceph"], 5)
    assert out[0] == "<<<ceph_status_metrics:sep(0)>>>" and out[1].startswith("# watchkeeper: read from ")
    assert out[-1].startswith("ceph_osd_nearfull_ratio 0.85")
    assert asked == [["mgr", "services"], ["osd", "dump"]]  # once, then from the cache
    module.body = lambda handler: handler.send_error(503, "No cached data available yet")
    assert not agent._ceph_from_metrics([], ask, ["ceph"], 5)
    assert not agent._ceph_from_metrics([], ask, ["ceph"], 5)
    assert asked.count(["mgr", "services"]) == 2  # the mgr may have moved: its address is asked again
    monkeypatch.setitem(agent.CONFIG, "ceph", {"prometheus": False})
    assert not agent._ceph_from_metrics([], ask, ["ceph"], 5) and len(asked) == 4


def test_no_module_is_asked_again_after_ten_minutes_not_an_hour(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(agent.CONFIG, "state_dir", str(tmp_path))
    monkeypatch.setitem(agent.CONFIG, "ceph", {})
    clock = [1_796_000_000.0]
    monkeypatch.setattr("watchkeeper.agent.watchkeeper_agent.time.time", lambda: clock[0])
    asked: list[str] = []

    def ask(args: list[str], keep: tuple[str, ...] | None = None) -> tuple[object, str | None]:
        asked.append(" ".join(args))
        return ({} if args == ["mgr", "services"] else {"full_ratio": 0.95}), None

    assert not agent._ceph_from_metrics([], ask, ["ceph"], 5)
    clock[0] += 300
    assert not agent._ceph_from_metrics([], ask, ["ceph"], 5)
    assert asked.count("mgr services") == 1  # five minutes on: still the cached answer
    clock[0] += 400
    assert not agent._ceph_from_metrics([], ask, ["ceph"], 5)
    assert asked.count("mgr services") == 2  # past ten minutes: asked again
