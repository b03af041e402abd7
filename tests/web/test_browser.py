"""The UI in Debian's Chromium, driven by Playwright: log in, find the CRIT service, see its
graph drawn with data, acknowledge it, watch it leave the problems list. Screenshots go to
test-artifacts/web/."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests.conftest import REPO, missing
from tests.web.served import PASSWORD, seed, served

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


@pytest.mark.slow
def test_log_in_open_the_crit_service_see_its_graph_and_acknowledge_it(browser: Browser, tmp_path: Path) -> None:
    seed(tmp_path / "wk.db", evil=False)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with served(tmp_path / "wk.db") as url:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url + "/")
        expect(page).to_have_url(f"{url}/login?next=%2F")
        page.get_by_label("Name").fill("alice")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()

        problems = page.locator("#problems")
        crit_row = problems.locator("tr.row-crit", has_text="Filesystem /var")
        expect(crit_row).to_have_count(1)
        page.screenshot(path=str(ARTIFACTS / "1-overview.png"), full_page=True)

        crit_row.get_by_role("link", name="Filesystem /var").click()
        expect(page.locator("h1.service-title")).to_contain_text("Filesystem /var")
        page.locator("nav.ranges").get_by_role("link", name="4h").click()  # the seeded data span four hours
        expect(page.locator("nav.ranges a.current")).to_have_text("4h")
        graph = page.locator('svg.graph[data-metric="fs_used_percent"]')
        expect(graph).to_be_visible()
        line = graph.locator("path.line")
        drawn = line.get_attribute("d", timeout=5000) or ""
        assert drawn.count("L") >= 40  # drawn through the stored points
        box = line.bounding_box()
        assert box is not None and box["width"] > 400 and box["height"] > 20  # really laid out on screen
        expect(graph.locator("line.level.crit")).to_have_count(1)
        expect(graph.locator("line.forecast")).to_have_count(0)  # the check's trend is drawn on its bytes
        expect(page.locator('svg.graph[data-metric="fs_used_bytes"] line.forecast')).to_have_count(1)
        page.screenshot(path=str(ARTIFACTS / "2-service.png"), full_page=True)

        page.get_by_label("comment", exact=True).fill("cleaning up old logs")
        page.get_by_role("button", name="Acknowledge").click()
        expect(page).to_have_url(url + "/")
        expect(problems.locator("tr", has_text="Filesystem /var")).to_have_count(0)
        page.locator("#handled summary").click()
        expect(page.locator("#handled tr", has_text="Filesystem /var")).to_contain_text("ack")
        page.screenshot(path=str(ARTIFACTS / "3-acknowledged.png"), full_page=True)
        page.close()
