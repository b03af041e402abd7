"""The UI in Debian's Chromium, driven by Playwright: log in, find the CRIT service, see its
graph drawn with data, acknowledge it, watch it leave the problems list. Screenshots go to
test-artifacts/web/."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import REPO, missing
from tests.web.served import PASSWORD, seed, served
from tests.web.test_configuration import Discovering
from watchkeeper.model.cycles import HostCycle, Outcome

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
ARTIFACTS = REPO / "test-artifacts" / "web"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not shutil.which(CHROMIUM):
        missing(f"Debian's Chromium ({CHROMIUM}, package chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield launched
        finally:
            launched.close()


def log_in(page: Page, url: str, go: bool = True) -> None:
    """As alice, through the login form (`go`: open it first); the overview is shown then."""
    if go:
        page.goto(url + "/login")
    page.get_by_label("Name").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#problems")).to_be_visible()


@pytest.mark.slow
def test_log_in_open_the_crit_service_see_its_graph_and_acknowledge_it(browser: Browser, tmp_path: Path) -> None:
    seed(tmp_path / "wk.db", evil=False)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with served(tmp_path / "wk.db") as url:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url + "/")
        expect(page).to_have_url(f"{url}/login?next=%2F")
        log_in(page, url, go=False)

        problems = page.locator("#problems")
        crit_row = problems.locator("tr.row-crit", has_text="Filesystem /var")
        expect(crit_row).to_have_count(1)
        page.screenshot(path=str(ARTIFACTS / "1-overview.png"), full_page=True)

        crit_row.get_by_role("link", name="Filesystem /var").click()
        expect(page.locator("h1.service-title")).to_contain_text("Filesystem /var")
        page.locator("nav.ranges").get_by_role("link", name="4h").click()  # the seeded data span four hours
        expect(page.locator("nav.ranges a.current")).to_have_text("4h")
        charts = page.locator("section.charts")
        expect(charts).to_have_attribute("data-drawn", "2")  # "Space" (bytes) and "Used space (%)"
        expect(page.locator("section.charts figure.chart figcaption")).to_have_text(["Space", "Used space (%)"])
        expect(page.locator(".svg-graphs")).to_be_hidden()  # the server's drawings step aside
        percent = page.locator("section.charts figure.chart").nth(1)
        box = percent.locator("canvas").bounding_box()
        assert box is not None and box["width"] > 400 and box["height"] > 100  # really laid out on screen
        # hover at a known time: the newest stored point's; the legend shows its value
        spot = page.evaluate("""() => {
            const chart = document.querySelectorAll("section.charts figure.chart")[1].chart;
            const xs = chart.data[0], ys = chart.data[1];
            let i = ys.length - 1; while (ys[i] === null) i -= 1;
            const over = chart.over.getBoundingClientRect();
            return {x: over.left + chart.valToPos(xs[i], "x"), y: over.top + 5, value: ys[i]};
        }""")
        page.mouse.move(spot["x"], spot["y"])
        shown = f"{spot['value']:.{2 if spot['value'] < 10 else 1}f}".rstrip("0").rstrip(".")
        expect(percent.locator(".u-legend .u-series").nth(1).locator(".u-value")).to_have_text(f"{shown} %")
        space = page.locator("section.charts figure.chart").nth(0)
        expect(space.locator(".u-legend")).to_contain_text("the check's trend")
        page.screenshot(path=str(ARTIFACTS / "2-service.png"), full_page=True)

        page.get_by_label("comment", exact=True).fill("cleaning up old logs")
        page.get_by_role("button", name="Acknowledge").click()
        expect(page).to_have_url(url + "/")
        expect(problems.locator("tr", has_text="Filesystem /var")).to_have_count(0)
        page.locator("#handled summary").click()
        expect(page.locator("#handled tr", has_text="Filesystem /var")).to_contain_text("ack")
        page.screenshot(path=str(ARTIFACTS / "3-acknowledged.png"), full_page=True)
        page.close()


@pytest.mark.slow
def test_every_page_is_usable_at_390_pixels_without_sideways_scrolling(browser: Browser, tmp_path: Path) -> None:
    seed(tmp_path / "wk.db", evil=False)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with served(tmp_path / "wk.db") as url:
        page = browser.new_page(viewport={"width": 390, "height": 844})
        log_in(page, url)
        for name, path in (("overview", "/"), ("hosts", "/hosts"), ("services", "/services"),
                           ("host", "/hosts/web1"), ("service", "/service?host=web1&service=Filesystem%20%2Fvar"),
                           ("capacity", "/capacity"), ("patch-plan", "/patch-plan")):
            page.goto(url + path)
            if name == "service":
                expect(page.locator("section.charts")).to_have_attribute("data-drawn", "2")
            width = page.evaluate("() => document.documentElement.scrollWidth")
            page.screenshot(path=str(ARTIFACTS / f"390-{name}.png"), full_page=True)
            assert width <= 390, f"{path} is {width} px wide at 390"
        page.close()


@pytest.mark.slow
def test_discovery_service_by_service_and_the_audit_log_in_a_phone_sized_window(browser: Browser,
                                                                                 tmp_path: Path) -> None:
    store = seed(tmp_path / "wk.db", evil=False)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with served(tmp_path / "wk.db", Discovering()) as url:
        page = browser.new_page(viewport={"width": 390, "height": 844})
        log_in(page, url)
        page.goto(url + "/hosts/web1")
        page.get_by_role("link", name="Service by service: accept, ignore, remove vanished").click()
        expect(page.locator("h1")).to_have_text("Discovery of web1")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(ARTIFACTS / "390-discovery.png"), full_page=True)
        page.get_by_label("Filesystem /srv").check()
        page.get_by_role("button", name="Monitor the selected").click()
        expect(page.get_by_label("Filesystem /srv")).to_have_count(0)
        page.get_by_label("Interface eth0").check()
        page.get_by_role("button", name="Ignore the selected (never offered again)").click()
        expect(page.locator("section.discovery-part", has_text="Ignored").get_by_label("Interface eth0")
               ).to_have_count(1)
        page.goto(url + "/audit")
        expect(page.locator("tr.audit-entry")).to_have_count(2)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(ARTIFACTS / "390-audit.png"), full_page=True)
        page.close()
    assert "Filesystem /srv" in {spec.name for spec in store.service_specs("web1")}
    assert store.ignored_services("web1") == ["Interface eth0"]


@pytest.mark.slow
def test_dark_mode_the_toggle_shortcuts_and_a_live_overview(browser: Browser, tmp_path: Path) -> None:
    store = seed(tmp_path / "wk.db", evil=False)
    with served(tmp_path / "wk.db") as url:
        context = browser.new_context(color_scheme="dark", viewport={"width": 1280, "height": 900})
        page = context.new_page()
        log_in(page, url)

        def background() -> str:
            return str(page.evaluate("() => getComputedStyle(document.body).backgroundColor"))

        assert background() == "rgb(21, 26, 31)"  # the system prefers dark: so does the page
        page.get_by_role("button", name="Light").click()
        assert background() == "rgb(246, 247, 249)"
        page.reload()  # the choice stays in this browser
        assert background() == "rgb(246, 247, 249)"
        page.screenshot(path=str(ARTIFACTS / "4-light-chosen.png"))

        page.keyboard.press("/")
        assert page.evaluate("() => document.activeElement.getAttribute('aria-label')") == "search"
        page.keyboard.press("Escape")
        page.locator("body").click()
        page.keyboard.press("g")
        page.keyboard.press("h")
        expect(page).to_have_url(url + "/hosts")

        page.goto(url + "/?refresh=2")
        problems = page.locator("#problems")
        expect(problems).not_to_contain_text("Memory on web3")
        before = page.evaluate("() => performance.getEntriesByType('navigation').length")
        store.write_cycles([HostCycle("web3", time.time(), True, "", [Outcome("Memory", 2, "Memory on web3")])])
        expect(problems).to_contain_text("Memory on web3", timeout=15_000)  # fetched again, not reloaded
        assert page.evaluate("() => performance.getEntriesByType('navigation').length") == before
        assert page.evaluate("() => document.getElementById('live').dataset.updated") is not None
        context.close()
