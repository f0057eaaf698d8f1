from __future__ import annotations

import json

import pandas as pd

from include.core.lake import LocalLake
from include.reports.html import momentum_svg, render_report
from include.reports.schema import THEME_COLUMNS
from tests.include.reports.test_publishing import table_for


def test_report_is_self_contained_with_themes_momentum_and_notes(tmp_path):
    lake = LocalLake(tmp_path)
    table = table_for(lake).assign(momentum=["rising", "new"], theme=["T01", None], colours=["red", ""])
    table["offers"] = json.dumps([{"portal": "shop1", "price": 9.5, "url": "https://one/a"},
                                  {"portal": "shop2", "price": 12.0, "url": "https://two/a"}])  # fmt: skip
    exemplars = json.dumps([{"post_url": "https://p/p1", "image_key": "images/full/p1.jpg", "source": "insta",
                             "similarity": 0.9}])  # fmt: skip
    themes = pd.DataFrame([{"theme": "T01", "name": "red tee", "posts": 2, "designs": 1, "score": 50.0,
                            "growth": 0.5, "exemplars": exemplars}]).reindex(columns=THEME_COLUMNS)  # fmt: skip
    trend = pd.DataFrame({"dt": ["2026-11-01", "2026-11-02"], "design_id": ["a", "a"], "score": [30.0, 50.0]})
    html = render_report(lake, table, "2026-11-02", "run-x", themes, trend, ["social source x is down"])
    assert "src='http" not in html and "<link" not in html and "<script" not in html  # nothing fetched
    assert html.count("data:image/jpeg;base64,") == 2 + 3 + 1  # 2 products, 3 evidence posts, 1 exemplar
    assert "<polyline" in html and "T01 · red tee" in html and "+50%" in html
    assert "social source x is down" in html and "shop2 12.0" in html and ">rising<" in html
    assert "editorial look" not in html
    table["editorial"] = [False, True]  # the second design's listing is a magazine's look
    html = render_report(lake, table, "2026-11-02", "run-x", themes, trend)
    assert html.count("editorial look · not for sale") == 1


def test_momentum_plot_has_one_line_per_design():
    trend = pd.DataFrame({"dt": ["d1", "d2", "d1", "d2"], "design_id": ["a", "a", "b", "b"],
                          "score": [1.0, 2.0, 3.0, 1.0]})  # fmt: skip
    svg = momentum_svg(trend, {"a": "Alpha"})
    assert svg.count("<polyline") == 2 and "Alpha" in svg and svg.startswith("<svg")
