"""The Gradio app in a real browser: Debian's chromium driven by playwright (never ``playwright install``).

Fills the form, runs a search against the Hub stand-in, checks the ranking table's recommended row, then checks that
a bad input shows the one-line hfsearch message in the page. A screenshot is saved to ``tests/artifacts/space.png``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from space_fixture import BEST, LABELS, TARGET, running_app

CHROMIUM = os.environ.get("HFSEARCH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)),
                       reason=f"chromium not found at {CHROMIUM} (apt-get install -y chromium; set HFSEARCH_CHROMIUM)"),
]


def _fill(page, elem_id: str, value: str) -> None:
    page.locator(f"#{elem_id} textarea, #{elem_id} input").first.fill(value)


def test_search_in_the_browser(registry):
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "space.png"
    with running_app() as url, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            page.goto(url, wait_until="domcontentloaded")
            page.wait_for_selector("#hfs-dataset", timeout=30_000)
            _fill(page, "hfs-dataset", TARGET)
            _fill(page, "hfs-split", "test")
            _fill(page, "hfs-candidates", "5")
            _fill(page, "hfs-samples", "200")
            page.get_by_text("Advanced", exact=True).click()
            _fill(page, "hfs-author", "test-org")
            _fill(page, "hfs-labels", LABELS)
            page.locator("#hfs-run").click()

            best = page.locator("#hfs-ranking tr.hfs-best")
            try:
                best.wait_for(timeout=120_000)
            except Exception:
                page.screenshot(path=str(ARTIFACTS / "space-failure.png"), full_page=True)
                print(f"\nfailure screenshot: {ARTIFACTS / 'space-failure.png'}")
                raise
            assert BEST in best.inner_text()
            assert "recommended" in best.inner_text()
            assert page.locator("#hfs-ranking a", has_text=BEST).get_attribute("href").endswith(f"/{BEST}")
            assert page.locator("#hfs-ranking tbody tr").count() == 2
            assert BEST in page.locator("#hfs-summary").inner_text()
            assert page.locator("#hfs-json").is_visible() and page.locator("#hfs-csv").is_visible()
            page.locator("#hfs-plot img, #hfs-plot svg, #hfs-plot canvas").first.wait_for(timeout=15_000)
            page.screenshot(path=str(shot), full_page=True)
            print(f"\nscreenshot: {shot}")

            # a bad input: the page shows hfsearch's one-line message (no stack trace)
            _fill(page, "hfs-split", "dev")
            page.locator("#hfs-run").click()
            toast = page.get_by_text("Unknown split 'dev'; available:")
            toast.first.wait_for(timeout=30_000)
            assert "Traceback" not in page.content()
        finally:
            browser.close()


def test_labeling_panel_in_the_browser(registry):
    """A search with "Labels you can give" = 3: the panel shows a row and a button per class; each answer updates the
    ranking (P(best) column, "after k labels"); "Stop and rank" ends it with the labels given."""
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(exist_ok=True)
    with running_app() as url, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            page.goto(url, wait_until="domcontentloaded")
            page.wait_for_selector("#hfs-dataset", timeout=30_000)
            _fill(page, "hfs-dataset", TARGET)
            _fill(page, "hfs-split", "test")
            _fill(page, "hfs-samples", "120")
            _fill(page, "hfs-label-budget", "3")
            page.get_by_text("Advanced", exact=True).click()
            _fill(page, "hfs-author", "test-org")
            _fill(page, "hfs-labels", LABELS)
            page.locator("#hfs-run").click()

            progress = page.locator("#hfs-label-progress")
            try:
                page.get_by_text("Label 1 of 3").wait_for(timeout=150_000)
            except Exception:
                page.screenshot(path=str(ARTIFACTS / "space-labels-failure.png"), full_page=True)
                raise
            row = page.locator("#hfs-label-row")
            assert row.inner_text().strip()  # the row's text is shown
            first_row = row.get_attribute("data-row")
            negative, positive = page.locator("#hfs-label-0"), page.locator("#hfs-label-1")
            assert negative.inner_text().strip() == "negative" and positive.inner_text().strip() == "positive"
            assert not page.locator("#hfs-label-2").is_visible()  # one button per class
            assert "P(best)" in page.locator("#hfs-ranking").inner_text()

            negative.click()
            page.get_by_text("Label 2 of 3").wait_for(timeout=30_000)
            assert page.locator("#hfs-label-row").get_attribute("data-row") != first_row
            page.get_by_text("after 1 label").first.wait_for(timeout=30_000)  # the summary follows the answers
            page.locator("#hfs-label-skip").click()  # free: still label 2
            page.wait_for_function("document.querySelector('#hfs-label-progress').innerText.includes('Label 2 of 3')")
            positive.click()
            page.get_by_text("Label 3 of 3").wait_for(timeout=30_000)
            page.locator("#hfs-label-stop").click()
            page.get_by_text("Labeling done (stopped): 2 of 3 labels used").wait_for(timeout=30_000)
            assert not negative.is_visible() and not page.locator("#hfs-label-stop").is_visible()
            assert "after 2 labels" in page.locator("#hfs-summary").inner_text()
            assert BEST in page.locator("#hfs-ranking tr.hfs-best").inner_text()
            page.screenshot(path=str(ARTIFACTS / "space-labels.png"), full_page=True)
            assert "Traceback" not in page.content() and progress.is_visible()
        finally:
            browser.close()
