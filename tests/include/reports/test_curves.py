"""The report's trend-curve section in a real headless Chromium (Playwright driving the Debian ``chromium``):
curves drawn rising first with history, forecast and band; short series named, not drawn; nothing fetched.
The screenshot goes to ``test-artifacts/report/trend_curves.png``.
"""

from __future__ import annotations

import os
import shutil
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

from include.core.lake import LocalLake
from include.reports.curves import curve_svg, trend_section
from include.reports.html import render_report
from include.trends.forecast import forecast_trends
from tests.include.reports.test_publishing import table_for
from tests.include.trends.test_forecast import AS_OF, weekly

REPO = Path(__file__).resolve().parents[3]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]  # fmt: skip


@cache
def forecasts() -> pd.DataFrame:
    frame, _ = weekly()
    labels = {("theme", "T07"): "T07 · red gingham", ("theme", "T02"): "T02 · navy stripe"}
    return forecast_trends(frame, AS_OF, labels=labels)[0]


def test_section_markup_orders_rising_first():
    fc = forecasts()
    html = trend_section(fc)
    assert html.index("data-series='colour:red'") < html.index("data-series='colour:olive'")  # rising, declining
    assert "Not forecast, insufficient history: T02 · navy stripe" in html and "data-series='theme:T07'" not in html
    red = fc[(fc["series_id"] == "colour:red") & (fc["horizon"] == "current")]
    svg = curve_svg(red, fc[(fc["series_id"] == "colour:red") & (fc["horizon"] == "upcoming")])
    assert all(f"class='{c}'" in svg for c in ("band", "forecast", "history", "signal"))
    assert trend_section(None) == "" and curve_svg(red.iloc[:0]) == ""


def test_report_section_in_headless_chromium(tmp_path):
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs the Debian package chromium")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    lake = LocalLake(tmp_path / "lake")
    page_file = tmp_path / "report.html"
    page_file.write_text(render_report(lake, table_for(lake), AS_OF, "run-x", forecasts=forecasts()))
    artifacts = REPO / "test-artifacts" / "report"
    artifacts.mkdir(parents=True, exist_ok=True)
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("request", lambda r: requests.append(r.url))
            page.goto(page_file.as_uri())
            page.get_by_role("heading", name="Trend curves").wait_for()
            colours = page.locator("[data-kind='colour'] .curve")
            assert colours.evaluate_all("els => els.map(e => e.dataset.class)") == ["rising", "flat", "declining"]
            red = page.locator(".curve[data-series='colour:red']")
            for part in ("band", "forecast", "history", "signal"):
                box = red.locator(f"svg .{part}").bounding_box()
                assert box and box["width"] > 50, part  # drawn across the chart, not a dot
            history_right = red.locator("svg .history").bounding_box()
            band = red.locator("svg .band").bounding_box()
            assert band["x"] >= history_right["x"] + history_right["width"] - 2  # the forecast comes after history
            assert "rising" in red.inner_text() and "year over year" in red.inner_text()
            short = page.locator("p.short[data-kind='theme']").inner_text()
            assert "T07 · red gingham (1 weeks of history, 78 needed since it was first seen)" in short
            page.locator("#trend-curves").scroll_into_view_if_needed()
            page.screenshot(path=artifacts / "trend_curves.png", full_page=True)
        finally:
            browser.close()
    assert requests == [page_file.as_uri()]  # self-contained: nothing else fetched
