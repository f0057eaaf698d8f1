"""Trend series read from history partitions in a lake: shares by hand, missing horizons, old and bad partitions."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from include.core.lake import LocalLake
from include.core.layout import history_key
from include.trends.series import SERIES_COLUMNS, daily_series, read_history, week_of, weekly_series


def part(lake, dt, rows, drop=()):
    frame = pd.DataFrame(rows, columns=["design_id", "current_score", "upcoming_score", "theme", "category", "colours"])
    frame = frame.assign(dt=dt, run_id="r", score=frame.current_score + frame.upcoming_score, support_posts=1)
    buf = io.BytesIO()
    frame.drop(columns=list(drop)).to_parquet(buf, index=False)
    lake.write_bytes(history_key(dt), buf.getvalue())


def lake_with_history(tmp_path):
    lake = LocalLake(tmp_path)
    part(lake, "2026-10-28", [("a", 50.0, 0.0, "T01", None, None)], drop=("category", "colours"))  # older partition
    part(lake, "2026-11-02", [("a", 60.0, 0.0, "T01", "dresses", "red,white"),
                              ("b", 40.0, 100.0, "T02", "skirts", "navy")])  # fmt: skip
    part(lake, "2026-11-03", [("a", 30.0, 0.0, "T01", "dresses", "red"), ("c", 70.0, 0.0, None, "dresses", "")])
    part(lake, "2026-11-09", [("a", 1.0, 0.0, "T01", "dresses", "red")])  # after the run date: a future week
    lake.write_bytes(history_key("2026-11-01"), b"not parquet")
    return lake


def test_daily_shares_by_hand(tmp_path):
    history, notes = read_history(lake_with_history(tmp_path), "2026-11-04")
    assert sorted(history["dt"].unique()) == ["2026-10-28", "2026-11-02", "2026-11-03"]
    assert any("2026-11-09" in n and "future" in n for n in notes) and any("2026-11-01" in n for n in notes)
    daily = daily_series(history)
    assert list(daily.columns) == SERIES_COLUMNS
    v = daily.set_index(["series_id", "horizon", "period"])["value"]
    assert v[("theme:T01", "current", "2026-11-02")] == 0.6 and v[("theme:T02", "upcoming", "2026-11-02")] == 1.0
    assert v[("theme:T01", "current", "2026-11-03")] == 0.3 and v[("theme:T02", "current", "2026-11-03")] == 0.0
    assert v[("colour:red", "current", "2026-11-02")] == 0.3 and v[("colour:white", "current", "2026-11-02")] == 0.3
    assert (
        v[("colour:navy", "current", "2026-11-02")] == 0.4 and v[("category:dresses", "current", "2026-11-03")] == 1.0
    )
    assert pd.isna(v[("theme:T01", "upcoming", "2026-11-03")])  # no fashion-week points that day: no value, not 0
    assert pd.isna(v[("category:dresses", "current", "2026-10-28")])  # that partition had no category column
    assert v[("theme:T01", "current", "2026-10-28")] == 1.0


def test_weekly_means_and_this_runs_rows(tmp_path):
    lake = lake_with_history(tmp_path)
    columns = ["design_id", "current_score", "upcoming_score", "theme", "category", "colours"]
    now = pd.DataFrame([("a", 10.0, 0.0, "T01", "dresses", "red"), ("b", 10.0, 0.0, "T02", "skirts", "navy")],
                       columns=columns)  # fmt: skip
    history, _ = read_history(lake, "2026-11-03", current=now)  # replaces the stored partition of that date
    weekly = weekly_series(daily_series(history))
    row = weekly.set_index(["series_id", "horizon", "period"]).loc[("theme:T01", "current", "2026-11-02")]
    assert row["value"] == pytest.approx((0.6 + 0.5) / 2) and row["days"] == 2
    upcoming = weekly.set_index(["series_id", "horizon", "period"]).loc[("theme:T02", "upcoming", "2026-11-02")]
    assert upcoming["value"] == 1.0 and upcoming["days"] == 1  # the day without fashion-week points is not averaged
    assert week_of("2026-11-08") == "2026-11-02" and week_of("2026-11-09") == "2026-11-09"
    assert daily_series(history.iloc[:0]).empty and weekly_series(daily_series(history.iloc[:0])).empty
