"""Trends over several simulated days, through the pipeline's stage functions against the demo web.

The demo world plants ten trends (two rising, two fading, two upcoming-only on the fashion-week source, two
sold on both portals); three consecutive dates are crawled, validated, embedded and ranked.
"""

from __future__ import annotations

import io
import json
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest

from include.core.layout import LATEST, history_key
from include.demo.server import DemoWeb
from include.demo.world import build_world
from include.reports.schema import nested

pytestmark = pytest.mark.slow
DATES = ["2026-11-01", "2026-11-02", "2026-11-03"]
SEED, PRODUCTS, POSTS = 5, 200, 120
SOCIAL = ["demo_instagram_streetstyle", "demo_pinterest_fashionweek"]
PORTALS = ["demo_boutique", "demo_outlet"]


def crawl(sources, dt):
    from crawlers.crawl import crawl_source
    from include.ops.stages import validate_source

    with ThreadPoolExecutor(len(sources)) as pool:
        summaries = list(pool.map(lambda s: crawl_source(s, dt), sources))
    for source, summary in zip(sources, summaries, strict=True):
        assert summary["rows"] > 0, summary
        validate_source(source, dt)


def read(lake, key):
    return pd.read_parquet(io.BytesIO(lake.read_bytes(key)))


def skus_of(row) -> set[str]:
    return {str(row.product_id)} | {o["product_id"] for o in nested(row.offers)}


def precision(table, planted) -> float:
    wanted = {p["sku"] for p in planted} | {s for p in planted for s in p["relisted"]}
    return sum(bool(skus_of(r) & wanted) for r in table.head(10).itertuples()) / 10


def row_of(table, trend):
    rows = [r for r in table.itertuples() if trend["sku"] in skus_of(r)]
    return rows[0] if rows else None


def test_planted_trends_over_three_days(monkeypatch):
    from embedding.catalog import embed_catalog
    from include.core.lake import open_lake
    from include.core.settings import get_settings
    from include.ops.stages import rank_and_publish
    from include.trends.colours import nearest_name
    from include.trends.run import RankError

    worlds = [build_world(SEED, PRODUCTS, POSTS, day=d, relist=2) for d in range(len(DATES))]
    with DemoWeb(worlds[0]) as web:
        monkeypatch.setenv("FTI_DEMO_WEB_URL", web.url)
        get_settings.cache_clear()
        lake = open_lake()
        crawl(PORTALS + SOCIAL, DATES[0])
        with pytest.raises(RankError, match="embed"):  # the catalog is not embedded yet
            rank_and_publish(DATES[0])
        assert not lake.exists(LATEST)
        embed_catalog(DATES[0])
        runs = [rank_and_publish(DATES[0])]
        for day in (1, 2):
            web.set_world(worlds[day])
            crawl(SOCIAL, DATES[day])
            runs.append(rank_and_publish(DATES[day]))

        tables = [read(lake, r["prefix"] + "winning_designs.parquet") for r in runs]
        themes = [read(lake, r["prefix"] + "themes.parquet") for r in runs]
        truth = [w.truth()["planted"] for w in worlds]
        for table, planted in zip(tables, truth, strict=True):
            print(table[["rank", "product_id", "score", "current_score", "upcoming_score", "momentum", "theme",
                         "colours"]].head(12).to_string())  # fmt: skip
            assert precision(table, planted) >= 0.9
        assert set(tables[0]["momentum"]) == {"new"}
        for trend in truth[1]:  # day 1: the change has the planted sign ...
            row = row_of(tables[1], trend)
            assert row is not None, trend
            if trend["direction"] != "steady":
                assert (row.delta > 0) == (trend["direction"] == "rising"), (trend, row)
        for trend in truth[2]:  # ... and by day 2 the baseline of two runs labels it
            row = row_of(tables[2], trend)
            if trend["direction"] == "rising":
                assert row.momentum == "rising" and row.delta > 0, (trend, row)
            if trend["direction"] == "fading":
                assert row.momentum == "falling" and row.delta < 0, (trend, row)
        last, planted = tables[2], truth[2]
        for trend in planted:
            row = row_of(last, trend)
            if trend["horizon"] == "upcoming":
                assert row.horizon == "upcoming" and row.upcoming_score > 3 * row.current_score
            if trend["relisted"]:  # one design, an offer on each portal
                assert row.offer_count == 2 and skus_of(row) >= {trend["sku"], *trend["relisted"]}
                assert {o["portal"] for o in nested(row.offers)} == {"demo_boutique", "demo_outlet"}
        # One theme per planted style: each planted design has a theme, and no two share one.
        planted_themes = [row_of(last, t).theme for t in planted]
        assert None not in planted_themes and len(set(planted_themes)) == len(planted)
        assert set(planted_themes) <= set(themes[2]["theme"])
        theme_sizes = themes[2].set_index("theme")["posts"]
        assert all(theme_sizes[t] >= 3 for t in planted_themes)
        # Colours: the garment's main colour is among the named dominant colours of most planted designs.
        world = worlds[2]
        hits = [nearest_name(world.product(t["sku"]).design.base_rgb) in row_of(last, t).colours.split(",")
                for t in planted]  # fmt: skip
        assert sum(hits) >= 0.8 * len(hits), hits
        # History: one partition per date; the report embeds thumbnails and plots momentum.
        assert all(lake.exists(history_key(d)) for d in DATES)
        html = lake.read_text(runs[2]["prefix"] + "report.html")
        assert html.count("data:image/jpeg;base64,") >= 30 and "<polyline" in html and "T01" in html

        # Stable theme ids: each planted style keeps its theme from day 1 to day 2.
        assert [row_of(tables[1], t).theme for t in planted] == planted_themes
        # Trend series from the three dates: categories share out each horizon's points; nothing is forecast
        # from three days (insufficient history, said so), and forecasts.parquet is listed in the manifest.
        from include.trends.series import daily_series, read_history

        daily = daily_series(read_history(lake, DATES[2])[0])
        assert set(daily["period"]) == set(DATES) and set(daily["kind"]) == {"theme", "category", "colour"}
        cats = daily[daily["kind"] == "category"].groupby(["horizon", "period"])["value"].sum()
        assert cats.round(6).eq(1.0).all(), cats
        forecasts = read(lake, runs[2]["prefix"] + "forecasts.parquet")
        assert set(forecasts["class"]) == {"insufficient-history"} and forecasts["forecast"].isna().all()
        manifest = json.loads(lake.read_text(runs[2]["prefix"] + "manifest.json"))
        assert "forecasts.parquet" in manifest["files"] and manifest["inputs"]["forecasts"]["run_days"] == 3
        assert "Trend curves" in html and "insufficient history" in html

        # Rerunning the last date: same run id, byte-identical files.
        before = {k: lake.read_bytes(k) for k in lake.list(runs[2]["prefix"])}
        again = rank_and_publish(DATES[2])
        assert again["prefix"] == runs[2]["prefix"]
        assert {k: lake.read_bytes(k) for k in lake.list(runs[2]["prefix"])} == before

        # The fashion-week source down on that date: the run says so and scores the rest.
        lake.delete_prefix(f"batches/kind=social/source=demo_pinterest_fashionweek/dt={DATES[2]}/")
        down = rank_and_publish(DATES[2])
        assert any("demo_pinterest_fashionweek" in n for n in down["notes"])
        manifest = json.loads(lake.read_text(down["prefix"] + "manifest.json"))
        assert "demo_pinterest_fashionweek" in " ".join(manifest["inputs"]["notes"])
        assert read(lake, down["prefix"] + "winning_designs.parquet")["upcoming_score"].sum() == 0
        assert json.loads(lake.read_text(LATEST))["run_id"] == down["run_id"]
