"""Trend series from the lake's history: how strongly each theme, catalog category and colour is worn, by day and week.

Every published run writes the history partition ``history/winning_designs/dt=<d>/part.parquet``
(:mod:`include.trends.momentum`): every scored design with its ``current_score`` (street-style sources) and
``upcoming_score`` (fashion-week sources), its theme and, since the forecasts, its catalog ``category`` and
``colours``. On a date, a key's value on a horizon is its **share of that horizon's points**: the sum of the
horizon score of the designs carrying it over the sum of all designs' (a design of three colours gives each a
third), so the values are the share of matched posts, weighted as the scores are.

* ``daily``: one point per run date. A horizon without points on a date (its sources were down) has no value that
  day (NaN, not 0); a key absent on a date whose horizon has points is 0.
* ``weekly``: the mean of a week's daily values (weeks start on Monday) and ``days``, the run days it averages.

The fashion-week (``upcoming``) series of a key is the leading signal of its street-style (``current``) series.
The long table (``SERIES_COLUMNS``) is what the forecaster takes; any other stage can hand it series of the same
shape (series id ``<kind>:<key>``).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from include.core.lake import Lake
from include.core.layout import history_key
from include.trends.momentum import partition_dates, read_partition

log = logging.getLogger(__name__)
KINDS = ("theme", "category", "colour")
HORIZONS = ("current", "upcoming")
SERIES_COLUMNS = ["series_id", "kind", "key", "horizon", "period", "value", "days"]
NEEDED = ["dt", "design_id", "current_score", "upcoming_score"]
KIND_COLUMN = {"theme": "theme", "category": "category", "colour": "colours"}


def read_history(lake: Lake, until: str, current: pd.DataFrame | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Every history row dated at or before ``until``, and a note per partition that was skipped.

    Args:
        lake: The lake.
        until: The run date; a partition dated after it is a future week in the history and is skipped (noted).
        current: This run's own rows, used instead of a stored partition of ``until`` (a rerun replaces it).

    Returns:
        The rows (``NEEDED``, ``theme``, ``category``, ``colours`` and, per kind column, ``has_<column>``: whether
        the row's partition holds it) and the notes.
    """
    frames, notes = [], []
    for day in partition_dates(lake):
        if day > until:
            notes.append(f"{history_key(day)} is dated after the run date {until}: a future week, skipped")
            continue
        if day == until and current is not None:
            continue
        frame, why = read_partition(lake, history_key(day), NEEDED)
        if frame is None:
            notes.append(f"{history_key(day)} unreadable, skipped: {why}")
            continue
        frames.append(frame.assign(dt=day))
    if current is not None:
        frames.append(current.assign(dt=until))
    for note in notes:
        log.warning("trend series: %s", note)
    columns = NEEDED + list(KIND_COLUMN.values())
    # which partitions hold each kind's column (an older one says nothing of categories and colours)
    frames = [f.reindex(columns=columns).assign(**{f"has_{c}": c in f.columns for c in KIND_COLUMN.values()})
              for f in frames]  # fmt: skip
    if not frames:
        return pd.DataFrame(columns=columns + [f"has_{c}" for c in KIND_COLUMN.values()]), notes
    return pd.concat(frames, ignore_index=True), notes


def _keys(kind: str, values: pd.Series) -> pd.DataFrame:
    """One row per (history row, key) with the key's weight for that design."""
    if kind != "colour":
        keys = values.map(lambda v: [v] if isinstance(v, str) and v else [])
    else:
        keys = values.map(lambda v: [c.strip() for c in v.split(",") if c.strip()] if isinstance(v, str) else [])
    weights = keys.map(lambda k: 1.0 / len(k) if k else 0.0)
    out = pd.DataFrame({"row": values.index, "key": keys, "weight": weights}).explode("key")
    return out.dropna(subset=["key"])


def daily_series(history: pd.DataFrame) -> pd.DataFrame:
    """Daily shares per (kind, key, horizon) from history rows (``read_history``); ``SERIES_COLUMNS``, period = date."""
    parts = []
    if history.empty:
        return pd.DataFrame(columns=SERIES_COLUMNS)
    dates = sorted(history["dt"].unique())
    for horizon in HORIZONS:
        score = pd.to_numeric(history[f"{horizon}_score"], errors="coerce").fillna(0.0).clip(lower=0.0)
        totals = score.groupby(history["dt"]).sum().reindex(dates, fill_value=0.0)
        for kind, column in KIND_COLUMN.items():
            has = history.get(f"has_{column}", pd.Series(column in history, index=history.index)).astype(bool)
            known = has.groupby(history["dt"]).any().reindex(dates, fill_value=False)
            keyed = _keys(kind, history[column]) if column in history else pd.DataFrame()
            if keyed.empty:
                continue
            points = score.loc[keyed["row"]].to_numpy() * keyed["weight"].to_numpy()
            contrib = pd.DataFrame({"dt": history.loc[keyed["row"], "dt"].to_numpy(), "key": keyed["key"].to_numpy(),
                                    "points": points}).groupby(["key", "dt"])["points"].sum()  # fmt: skip
            wide = contrib.unstack("dt").reindex(columns=dates).fillna(0.0)
            valid = (totals > 0) & known  # a date whose partition lacks the column says nothing of this kind
            share = wide.div(totals.where(valid), axis=1)
            long = share.stack(future_stack=True).rename("value").reset_index()
            parts.append(long.assign(kind=kind, horizon=horizon, days=valid.reindex(long["dt"]).astype(int).to_numpy()))
    if not parts:
        return pd.DataFrame(columns=SERIES_COLUMNS)
    out = pd.concat(parts, ignore_index=True).rename(columns={"dt": "period"})
    out["series_id"] = out["kind"] + ":" + out["key"].astype(str)
    out["value"] = out["value"].astype(float).round(9)
    return out[SERIES_COLUMNS].sort_values(["kind", "key", "horizon", "period"], kind="stable").reset_index(drop=True)


def week_of(day: str | pd.Timestamp) -> str:
    """The Monday (ISO date) of the week of ``day``."""
    ts = pd.Timestamp(day)
    return (ts - pd.Timedelta(days=ts.weekday())).strftime("%Y-%m-%d")


def weekly_series(daily: pd.DataFrame) -> pd.DataFrame:
    """Weekly means of the daily series (weeks start on Monday); ``days`` counts the run days with a value."""
    if daily.empty:
        return pd.DataFrame(columns=SERIES_COLUMNS)
    frame = daily.assign(period=daily["period"].map(week_of), has=daily["value"].notna().astype(int))
    out = frame.groupby(["series_id", "kind", "key", "horizon", "period"], sort=True).agg(
        value=("value", "mean"), days=("has", "sum")
    )  # fmt: skip
    out = out.reset_index()
    out["value"] = out["value"].astype(float).round(9)
    return out[SERIES_COLUMNS]


def wide(series: pd.DataFrame, periods: list[str]) -> pd.DataFrame:
    """``(kind, key, horizon)`` rows by ``periods`` columns of values (NaN where a period has none)."""
    if series.empty:
        return pd.DataFrame(columns=periods, index=pd.MultiIndex.from_tuples([], names=["kind", "key", "horizon"]))
    table = series.drop_duplicates(["kind", "key", "horizon", "period"]).set_index(["kind", "key", "horizon", "period"])
    table = table["value"].astype(float).unstack("period")
    return table.reindex(columns=periods).replace([np.inf, -np.inf], np.nan)
