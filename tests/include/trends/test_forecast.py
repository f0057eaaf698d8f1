"""Forecasts of long weekly tables: good, short and broken series; classes, bands and reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from include.reports.schema import FORECAST_COLUMNS
from include.trends.forecast import forecast_trends
from include.trends.metrics import seasonal_mase
from tests.include.trends.test_models import block

WEEKS = [d.strftime("%Y-%m-%d") for d in pd.date_range("2023-01-02", periods=160, freq="7D")]
AS_OF = "2026-01-21"  # a Wednesday of the last week (2026-01-19)


def rows(kind, key, horizon, values, weeks=WEEKS):
    return [{"series_id": f"{kind}:{key}", "kind": kind, "key": key, "horizon": horizon, "period": w, "value": v,
             "days": 7} for w, v in zip(weeks, values, strict=True) if v == v]  # fmt: skip


def weekly():
    y, signal, growth = block(n=3, weeks=160, h=0)
    gap = y[0].copy()
    gap[120] = np.nan  # a week without any run: only the 39 weeks after it count
    out = rows("colour", "red", "current", y[2]) + rows("colour", "red", "upcoming", signal[2])
    out += rows("colour", "olive", "current", y[0]) + rows("colour", "olive", "upcoming", signal[0])
    out += rows("colour", "navy", "current", y[1])  # no fashion-week series: no signal
    out += rows("category", "dresses", "current", gap) + rows("category", "skirts", "current", np.full(160, 0.2))
    out += rows("theme", "T07", "current", [0.0] * 159 + [0.3])  # a theme first seen this week
    out += rows("theme", "T02", "current", y[1][:-1], WEEKS[:-1])  # not seen in the week of the run
    return pd.DataFrame(out), growth


def test_good_short_and_broken_series():
    table, counts = forecast_trends(weekly()[0], AS_OF, labels={("theme", "T07"): "T07 · red gingham"})
    assert list(table.columns) == FORECAST_COLUMNS and set(table["dt"]) == {AS_OF}
    info = table[table["horizon"] == "current"].groupby("series_id").first()
    assert info.loc["colour:red", "class"] == "rising" and info.loc["colour:red", "model"] == "fti"
    assert info.loc["colour:olive", "class"] == "declining" and info.loc["colour:navy", "model"] == "fti-nosignal"
    red_y = block(n=3, weeks=160, h=0)[0][2]  # its own last 52 weeks from the 108 before, against seasonal naive
    naive = seasonal_mase(red_y[108:], red_y[56:108], red_y[:108])[0]
    assert 0 < info.loc["colour:red", "backtest_mase"] < 0.8 * naive and info.loc["colour:red", "history_weeks"] == 160
    short = {s: info.loc[s, "reason"] for s in ("category:dresses", "category:skirts", "theme:T07", "theme:T02")}
    assert short == {
        "category:dresses": "39 weeks of history, 78 needed (a week without data breaks the series)",
        "category:skirts": "constant over 160 weeks: nothing to model",
        "theme:T07": "1 weeks of history, 78 needed since it was first seen",
        "theme:T02": "no value in the week of the run",
    }  # fmt: skip
    assert (info.loc[list(short), "class"] == "insufficient-history").all()
    assert info.loc["theme:T07", "label"] == "T07 · red gingham"
    unforecast = table[table["series_id"].isin(short)]
    assert unforecast["forecast"].isna().all() and unforecast["model"].isna().all()  # never a made-up curve
    red = table[(table["series_id"] == "colour:red") & (table["horizon"] == "current")]
    ahead = red[red["forecast"].notna()]
    assert len(ahead) == 52 and ahead["week"].iloc[0] == "2026-01-26" and red["actual"].notna().sum() == 160
    assert (ahead["lower"] <= ahead["forecast"]).all() and (ahead["forecast"] <= ahead["upper"]).all()
    assert counts["forecast"] == 5 and counts["insufficient-history"] == 4 and counts["without_signal"] == 1
    assert counts["reasons"] == {"constant": 1, "no value this week": 1, "too few weeks": 2}
    # rising before declining within a kind (the report relies on it)
    colours = table[table["kind"] == "colour"].drop_duplicates(["series_id", "horizon"])["class"].tolist()
    assert colours.index("rising") < colours.index("declining")


def test_bad_input_is_an_error():
    frame, _ = weekly()
    with pytest.raises(ValueError, match="after the run's week"):
        forecast_trends(frame, "2026-01-14")
    with pytest.raises(ValueError, match="negative"):
        forecast_trends(frame.assign(value=frame["value"] - 1.0), AS_OF)
    empty, counts = forecast_trends(frame.iloc[:0], AS_OF)
    assert empty.empty and counts["series"] == 0
