"""The UI over real HTTP: login, sessions, CSRF, escaping, and the pages' content."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.web.served import EVIL, PASSWORD, seed, served
from watchkeeper.model.cycles import HostCycle, Outcome
from watchkeeper.model.hosts import HostConfig
from watchkeeper.model.verdicts import Metric
from watchkeeper.store.database import Store
from watchkeeper.web.link import NoDaemon


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Store]]:
    store = seed(tmp_path / "wk.db")
    with served(tmp_path / "wk.db") as url:
        yield url, store


@contextmanager
def logged_in(url: str, user: str = "alice") -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, timeout=30) as client:
        response = client.post("/login", data={"name": user, "password": PASSWORD, "next": "/"})
        assert response.status_code == 303, response.text
        yield client


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match, "the page has no CSRF field"
    return match[1]


def test_pages_need_a_login_and_come_back_to_the_page_asked_for(site: tuple[str, Store]) -> None:
    url, _ = site
    with httpx.Client(base_url=url) as client:
        response = client.get("/service", params={"host": "web1", "service": "Memory"})
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=%2Fservice%3Fhost%3Dweb1")
        wrong = client.post("/login", data={"name": "alice", "password": "wrong password", "next": "/"})
        assert wrong.status_code == 401 and "Wrong name or password" in wrong.text
        right = client.post("/login", data={"name": "alice", "password": PASSWORD, "next": "/hosts/web1"})
        assert right.status_code == 303 and right.headers["location"] == "/hosts/web1"
        cookie = right.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie


def test_the_login_never_redirects_to_another_site(site: tuple[str, Store]) -> None:
    url, _ = site
    with httpx.Client(base_url=url) as client:
        for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
            response = client.post("/login", data={"name": "alice", "password": PASSWORD, "next": target})
            assert response.headers["location"] == "/", target


def test_the_patch_plan_page_groups_hosts_by_decision_with_reasons(site: tuple[str, Store]) -> None:
    url, store = site
    now = time.time()
    memory = {"pending.libssl3": ["3.0.15-1~deb12u1", True, now - 4 * 86400]}
    store.write_cycles([], value_stores=[("web2", "APT updates", json.dumps(memory))])
    with logged_in(url, "viewer") as client:
        page = client.get("/patch-plan").text
    assert "<h2>Patch now (1)</h2>" in page  # a security update waiting 4 days; recovery unknown is some risk
    assert '<a href="/hosts/web2">web2</a>' in page and "1 security updates pending" in page
    assert "recovery time unknown (no recovery= label)" in page


def test_the_overview_shows_problems_first_with_counts(site: tuple[str, Store]) -> None:
    url, _ = site
    with logged_in(url) as client:
        page = client.get("/").text
    problems = page[page.index('id="problems"'):]
    assert problems.index("Filesystem /var") < problems.index("Memory")  # CRIT before WARN
    assert "<b>2</b> CRIT" in page and "<b>1</b> WARN" in page and "<b>3</b> hosts" in page


def test_markup_in_summaries_details_service_names_and_history_is_shown_escaped(site: tuple[str, Store]) -> None:
    url, _ = site
    escaped = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"
    with logged_in(url) as client:
        pages = [client.get("/").text, client.get("/hosts/web1").text, client.get("/hosts/web3").text,
                 client.get("/services", params={"q": "script"}).text,
                 client.get("/service", params={"host": "web1", "service": "Filesystem /var"}).text,
                 client.get("/service", params={"host": "web3", "service": f"Log {EVIL}"}).text]
    for page in pages:
        assert EVIL not in page
        scripts = re.findall(r"<script[^>]*>", page)  # only the page's own, from /static, none inline
        assert all(re.fullmatch(r'<script src="/static/[\w./-]+\.js"( defer)?>', tag) for tag in scripts), scripts
    assert escaped in pages[0] and escaped in pages[4] and escaped in pages[5]


def test_security_headers_forbid_inline_scripts_and_framing(site: tuple[str, Store]) -> None:
    url, _ = site
    with logged_in(url) as client:
        headers = client.get("/").headers
    assert "default-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"


def test_an_action_without_the_session_csrf_token_is_refused(site: tuple[str, Store]) -> None:
    url, store = site
    with logged_in(url) as client:
        form = {"host": "web1", "service": "Filesystem /var", "comment": "on it", "next": "/"}
        refused = client.post("/actions/ack", data={**form, "csrf": "forged"})
        assert refused.status_code == 403 and "CSRF" in refused.text
        assert store.query("SELECT count(*) FROM acknowledgements")[0][0] == 0
        token = csrf_of(client.get("/").text)
        done = client.post("/actions/ack", data={**form, "csrf": token})
        assert done.status_code == 303
        assert store.query("SELECT host, service, author FROM acknowledgements") == [
            ("web1", "Filesystem /var", "alice")]
        after = client.get("/").text
    assert "Filesystem /var" not in after[after.index('id="problems"'):after.index('id="handled"')]


def test_a_read_only_user_can_look_but_not_act(site: tuple[str, Store]) -> None:
    url, store = site
    with logged_in(url, "viewer") as client:
        token = csrf_of(client.get("/").text)
        response = client.post("/actions/downtime", data={"host": "web2", "duration": "1h", "comment": "x",
                                                         "csrf": token})
    assert response.status_code == 403 and "may only look" in response.text
    assert store.query("SELECT count(*) FROM downtimes")[0][0] == 0


def test_the_service_page_draws_each_metric_with_levels_and_a_forecast(site: tuple[str, Store]) -> None:
    url, _ = site
    with logged_in(url) as client:
        page = client.get("/service", params={"host": "web1", "service": "Filesystem /var", "range": "4h"}).text
    graphs = re.findall(r'<svg class="graph"[^>]*data-metric="([^"]+)" data-points="(\d+)"', page)
    assert {metric for metric, _ in graphs} == {"fs_used_percent", "fs_used_bytes", "fs_growth_bytes_per_second"}
    assert all(int(points) >= 45 for _, points in graphs)

    def figure(metric: str) -> str:
        found = page[page.index(f'data-metric="{metric}"'):]
        return found[:found.index("</figure>")]

    percent = figure("fs_used_percent")
    assert 'class="level warn"' in percent and 'class="level crit"' in percent
    assert 'class="forecast"' not in percent and "trend" not in percent  # one answer: the check's
    used = figure("fs_used_bytes")
    assert 'class="forecast"' in used and "the check&#39;s trend: +251.46 GiB per day" in used
    assert 'class="timeline"' in page and "state-crit" in page


def test_logging_out_ends_the_session(site: tuple[str, Store]) -> None:
    url, _ = site
    with logged_in(url) as client:
        token = csrf_of(client.get("/").text)
        assert client.post("/logout", data={"csrf": token}).status_code == 303
        assert client.get("/").status_code == 303


class Recording(NoDaemon):
    """A daemon link that checks what it is asked to and knows web1's agent and its services."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str | None]] = []

    def reschedule(self, host: str, service: str | None, when: float) -> bool:
        self.asked.append((host, service))
        return host == "web1"


def test_check_now_from_the_service_and_host_pages(tmp_path: Path) -> None:
    seed(tmp_path / "wk.db")
    daemon = Recording()
    with served(tmp_path / "wk.db", daemon) as url, logged_in(url) as client:
        page = client.get("/service", params={"host": "web1", "service": "Memory"}).text
        assert "<button>Check now</button>" in page
        token = csrf_of(page)
        done = client.post("/actions/check", data={"host": "web1", "service": "Memory", "csrf": token,
                                                   "next": "/service?host=web1&service=Memory"})
        assert done.status_code == 303 and done.headers["location"] == "/service?host=web1&service=Memory"
        assert "<button>Check now</button>" in client.get("/hosts/web1").text
        assert client.post("/actions/check", data={"host": "web1", "csrf": token}).status_code == 303
        refused = client.post("/actions/check", data={"host": "web2", "service": "Memory", "csrf": token})
        assert refused.status_code == 409 and "checks nothing under web2 Memory" in refused.text
        assert client.post("/actions/check", data={"host": "web1", "csrf": "forged"}).status_code == 403
    assert daemon.asked == [("web1", "Memory"), ("web1", None), ("web2", "Memory")]


def test_the_login_session_reads_the_api_for_the_graphs_but_changes_nothing_through_it(
        site: tuple[str, Store]) -> None:
    url, store = site
    with logged_in(url) as client:
        metrics = client.get("/api/v1/hosts/web1/metrics/Filesystem%20%2Fvar", params={"range": "4h"})
        assert metrics.status_code == 200
        assert {s["metric"] for s in metrics.json()["series"]} >= {"fs_used_percent", "fs_used_bytes"}
        refused = client.post("/api/v1/downtimes", json={"host": "web1", "duration_s": 3600, "comment": "x"})
        assert refused.status_code == 401 and "API token" in refused.json()["error"]
    assert store.query("SELECT count(*) FROM downtimes")[0][0] == 0
    with httpx.Client(base_url=url, timeout=30) as anonymous:
        assert anonymous.get("/api/v1/hosts/web1/metrics/Filesystem%20%2Fvar").status_code == 401


def test_the_vendored_chart_library_is_the_pinned_one(site: tuple[str, Store]) -> None:
    url, _ = site
    folder = Path(__file__).resolve().parents[2] / "src/watchkeeper/web/static/vendor/uplot-1.6.32"
    digests = dict(line.split()[2:0:-1] for line in (folder / "SOURCE.md").read_text().splitlines()
                   if line.strip().startswith("sha256"))
    with httpx.Client(base_url=url, timeout=30) as client:
        for name, digest in digests.items():
            served = client.get(f"/static/vendor/uplot-1.6.32/{name}")
            assert served.status_code == 200 and hashlib.sha256(served.content).hexdigest() == digest
    assert (folder / "LICENSE").read_text().startswith("The MIT License")


def test_the_hosts_page_lists_filters_sorts_and_groups_by_label(site: tuple[str, Store]) -> None:
    url, store = site
    for name, role in (("web1", "frontend"), ("web2", "frontend"), ("web3", "storage")):
        config = store.host(name).config
        store.update_host(HostConfig(name, config.uri, config.interval_s, {"labels": {"role": role}}))
    with logged_in(url) as client:
        assert 'href="/hosts"' in client.get("/").text  # the "N hosts" count leads here
        page = client.get("/hosts").text
        rows = re.findall(r'<tr class="host-row">\s*<td><a href="/hosts/(\w+)">', page)
        assert rows == ["web1", "web2", "web3"]
        web1 = page[page.index('href="/hosts/web1"'):page.index('href="/hosts/web2"')]
        assert "1 CRIT" in web1 and "2 OK" in web1 and "role=frontend" in web1
        by_problems = client.get("/hosts", params={"sort": "problems"}).text
        assert re.findall(r'<tr class="host-row">\s*<td><a href="/hosts/(\w+)">', by_problems)[0] in ("web1", "web2")
        storage = client.get("/hosts", params={"label": "role=storage"}).text
        assert re.findall(r'<tr class="host-row">\s*<td><a href="/hosts/(\w+)">', storage) == ["web3"]
        grouped = client.get("/hosts", params={"group": "role"}).text
        assert re.findall(r'<h2 class="host-group">role = (\w+)', grouped) == ["frontend", "storage"]
        assert "No host matches." in client.get("/hosts", params={"q": "nothing-like-it"}).text


def test_the_overview_is_a_dashboard_of_fills_changes_notifications_and_the_daemon(tmp_path: Path) -> None:
    store = seed(tmp_path / "wk.db", evil=False)
    now = time.time()
    store.write_cycles([HostCycle("web2", now, True, "", [Outcome("Filesystem /var", 1, "full in 3 days", metrics=[
        Metric("fs_time_until_full_seconds", 3 * 86400.0)])])])
    with served(tmp_path / "wk.db") as url, logged_in(url) as client:
        page = client.get("/").text
    dashboard = page[page.index('id="dashboard"'):]
    soonest = dashboard[:dashboard.index("Recent state changes")]
    assert "web2" in soonest and "3 days" in soonest
    assert "full in 3 days" in dashboard  # the newest state change
    assert "Notifications today" in dashboard and "This web server runs without the daemon." in dashboard
