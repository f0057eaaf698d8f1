"""Forecasts of the weekly trend series: what will rise, with its band, its class and its own backtest error.

:func:`forecast_trends` takes the long weekly table of :mod:`include.trends.series` (any stage's series of that
shape will do) and forecasts every ``(kind, key, horizon)`` series ``horizon_weeks`` ahead with
:class:`include.trends.models.TrendModel`; a street-style (``current``) series reads the fashion-week
(``upcoming``) series of the same key as its leading signal.

Each series is checked first; what cannot be forecast honestly gets the class ``insufficient-history`` with the
reason in ``reason``, and no forecast rows (never a made-up curve):

* fewer weeks than the model needs (78) in its last unbroken stretch since the key was first seen (zeros before
  its first appearance are not history): a week without any run, or without any point of its horizon (the
  sources down all week), breaks the series and only the weeks after the break count;
* no value in the week of the run;
* a constant series (nothing to model).

A week after the run's week, or a negative share, is an error (``ValueError``): the input is wrong, not short.
``backtest_mase`` is the model's seasonal MASE on the series' own history (its last weeks forecast from the ones
before) when the history is long enough for at least ``backtest_min_weeks`` held-out weeks; else null.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from include.core.lake import Lake
from include.reports.schema import FORECAST_COLUMNS
from include.trends.metrics import CLASSES, INSUFFICIENT, seasonal_mase, trend_class, yoy_change
from include.trends.models import TrendModel
from include.trends.series import daily_series, read_history, week_of, weekly_series, wide

ORDER = {c: i for i, c in enumerate((*CLASSES, INSUFFICIENT))}


@dataclass(frozen=True)
class ForecastParams:
    """Forecast horizon, class threshold, model and the backtest's minimum held-out weeks."""

    horizon_weeks: int = 52
    threshold: float = 0.5
    model: TrendModel = field(default_factory=TrendModel)
    backtest_min_weeks: int = 13


def _stretch(values: np.ndarray) -> tuple[int, str]:
    """Start of the trailing unbroken stretch of ``values`` since the key was first seen, and why it starts there."""
    finite = np.isfinite(values)
    if not finite[-1]:
        return len(values), "no value in the week of the run"
    breaks = np.flatnonzero(~finite)
    start, why = (int(breaks[-1]) + 1, "a week without data breaks the series") if len(breaks) else (0, "")
    seen = np.flatnonzero(values[start:] > 0)
    if len(seen) and seen[0] > 0:  # zeros before a key first appears are not its history
        return start + int(seen[0]), "first seen then"
    return start, why


def _check(table: pd.DataFrame, model: TrendModel) -> tuple[dict, dict]:
    """Eligible rows -> stretch start, skipped rows -> (reason code, reason)."""
    eligible, skipped = {}, {}
    for idx, row in zip(table.index, table.to_numpy(), strict=True):
        start, why = _stretch(row)
        weeks = len(row) - start
        if not weeks:
            skipped[idx] = ("no value this week", why)
        elif weeks < model.min_weeks:
            tail = f" ({why})" if why and why != "first seen then" else " since it was first seen" if why else ""
            skipped[idx] = ("too few weeks", f"{weeks} weeks of history, {model.min_weeks} needed{tail}")
        elif np.ptp(row[start:]) == 0:
            skipped[idx] = ("constant", f"constant over {weeks} weeks: nothing to model")
        else:
            eligible[idx] = start
    return eligible, skipped


def _signals(table: pd.DataFrame, rows: list[tuple], start: int) -> np.ndarray:
    """The upcoming series of each current row's key (NaN rows where there is none)."""
    out = np.full((len(rows), table.shape[1] - start), np.nan)
    for i, (kind, key, horizon) in enumerate(rows):
        if horizon == "current" and (kind, key, "upcoming") in table.index:
            out[i] = table.loc[(kind, key, "upcoming")].to_numpy()[start:]
    return out


def _block(table, rows, start, params) -> dict[tuple, dict]:
    """Forecast, class and backtest of the rows that share one stretch start."""
    model, h = params.model, params.horizon_weeks
    y = table.loc[rows].to_numpy()[:, start:]
    signal = _signals(table, rows, start)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        fc = model.forecast(y, signal, h)
        held = min(h, y.shape[1] - model.min_weeks)
        backtest = np.full(len(rows), np.nan)
        if held >= params.backtest_min_weeks:
            past = model.forecast(y[:, :-held], signal[:, :-held], held)
            backtest = seasonal_mase(y[:, -held:], past.mean, y[:, :-held], model.season)
    change = yoy_change(fc.mean, y[:, -model.season :])
    return {
        row: {"mean": fc.mean[i], "lower": fc.lower[i], "upper": fc.upper[i], "model": fc.model[i],
              "change": float(change[i]), "class": trend_class(change[i], params.threshold),
              "backtest": float(backtest[i]), "weeks": y.shape[1]}
        for i, row in enumerate(rows)
    }  # fmt: skip


def forecast_trends(
    weekly: pd.DataFrame, as_of: str, params: ForecastParams | None = None, labels: Mapping[tuple, str] | None = None
) -> tuple[pd.DataFrame, dict]:
    """Forecast every weekly series (see the module docstring).

    Args:
        weekly: ``include.trends.series.weekly_series`` (``SERIES_COLUMNS``; ``period`` = the week's Monday).
        as_of: The run date; its week is the last week of history.
        params: Horizon, threshold, model.
        labels: ``(kind, key)`` -> a readable label (theme names); the key otherwise.

    Returns:
        The table (``FORECAST_COLUMNS``: a row per history week with ``actual`` and per forecast week with
        ``forecast, lower, upper``; the series' class, model and backtest on each) and counts for the manifest.

    Raises:
        ValueError: a week after the run's week, or a negative value.
    """
    params = params or ForecastParams()
    last = week_of(as_of)
    counts: dict = {"series": 0, "forecast": 0, INSUFFICIENT: 0, "without_signal": 0, "reasons": {}}
    if weekly.empty:
        return pd.DataFrame(columns=FORECAST_COLUMNS), counts
    if str(weekly["period"].max()) > last:
        raise ValueError(f"the series hold week {weekly['period'].max()}, after the run's week {last}")
    if (weekly["value"] < 0).any():
        raise ValueError("the series hold negative shares")
    weeks = [d.strftime("%Y-%m-%d") for d in pd.date_range(str(weekly["period"].min()), last, freq="7D")]
    table = wide(weekly, weeks)
    eligible, skipped = _check(table, params.model)
    results: dict[tuple, dict] = {}
    for start in sorted(set(eligible.values())):
        results.update(_block(table, [r for r, s in eligible.items() if s == start], start, params))
    future = [d.strftime("%Y-%m-%d") for d in pd.date_range(last, periods=params.horizon_weeks + 1, freq="7D")[1:]]
    frames = []
    for row in table.index:
        kind, key, horizon = row
        res = results.get(row)
        values = table.loc[row].to_numpy()
        seen = np.isfinite(values)
        history = pd.DataFrame({"week": np.array(weeks)[seen], "actual": values[seen]})
        parts = [history]
        if res is not None:
            parts.append(pd.DataFrame({"week": future, "forecast": res["mean"], "lower": res["lower"],
                                       "upper": res["upper"]}))  # fmt: skip
        frame = pd.concat(parts, ignore_index=True).reindex(columns=["week", "actual", "forecast", "lower", "upper"])
        frames.append(frame.assign(
            series_id=f"{kind}:{key}", kind=kind, key=key, label=(labels or {}).get((kind, key), str(key)),
            horizon=horizon, **{"class": res["class"] if res else INSUFFICIENT},
            change=res["change"] if res else np.nan, model=res["model"] if res else None,
            backtest_mase=res["backtest"] if res else np.nan,
            history_weeks=res["weeks"] if res else int(len(values) - _stretch(values)[0]),
            reason=skipped.get(row, ("", ""))[1], dt=as_of,
        ))  # fmt: skip
    out = pd.concat(frames, ignore_index=True)
    for col in ("actual", "forecast", "lower", "upper", "change", "backtest_mase"):
        out[col] = out[col].astype(float).round(9)
    out = out.assign(order=out["class"].map(ORDER), neg=-out["change"].fillna(-np.inf))
    out = out.sort_values(["kind", "order", "neg", "key", "horizon", "week"], kind="stable")[FORECAST_COLUMNS]
    counts.update({
        "series": len(table), "forecast": len(results), INSUFFICIENT: len(skipped),
        "without_signal": sum(r["model"] == "fti-nosignal" and k[2] == "current" for k, r in results.items()),
        "reasons": dict(sorted(Counter(code for code, _ in skipped.values()).items())),
        "classes": dict(sorted(Counter(r["class"] for r in results.values()).items())),
    })  # fmt: skip
    return out.reset_index(drop=True), counts


def forecast_lake(
    lake: Lake, dt: str, current: pd.DataFrame, params: ForecastParams | None = None,
    labels: Mapping[tuple, str] | None = None,
) -> tuple[pd.DataFrame, dict, list[str]]:  # fmt: skip
    """The run's forecasts from the lake's history and this run's own history rows.

    Returns:
        The forecasts table, its counts (with the run days and weeks read) and notes on skipped partitions.
    """
    history, notes = read_history(lake, dt, current)
    weekly = weekly_series(daily_series(history))
    table, counts = forecast_trends(weekly, dt, params, labels)
    counts = {"run_days": int(history["dt"].nunique()) if len(history) else 0,
              "weeks": int(weekly["period"].nunique()) if len(weekly) else 0, **counts}  # fmt: skip
    return table, counts, notes
