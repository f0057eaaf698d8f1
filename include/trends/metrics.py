"""Forecast metrics of the HERMES paper (David, Bellot, Le Corff 2022) and the trend classes built on them.

* **Seasonal MASE** of one series: the mean absolute error over the forecast horizon divided by the mean absolute
  year-over-year difference of the training weeks, ``mean |y_t - y_{t-52}|`` (a seasonal naive forecast scores
  about 1 on data like its training years); a model's figure is the mean over series.
* **Year-over-year change**: ``(mean of the horizon - mean of the last 52 training weeks) / mean of those weeks``.
* **Paper class** (the accuracy the paper reports): ``+1`` increasing when the change is above ``threshold``
  (0.5), ``-1`` decreasing below ``-threshold``, ``0`` flat otherwise. The accuracy compares the class of the
  forecast with the class of what happened.
* **Trend class** (what the report says): ``declining`` / ``flat`` / ``rising`` by the same rule, and
  ``emerging`` for a rise of at least ``emerging`` (3.0: four times last year's level) or from nothing (last year
  zero, forecast positive). Emerging and rising are both "increasing" for the accuracy.
"""

from __future__ import annotations

import numpy as np

SEASON = 52
THRESHOLD = 0.5
EMERGING = 3.0
CLASSES = ("emerging", "rising", "flat", "declining")
INSUFFICIENT = "insufficient-history"


def seasonal_mase(actual: np.ndarray, forecast: np.ndarray, history: np.ndarray, season: int = SEASON) -> np.ndarray:
    """Seasonal MASE per series (rows); NaN where the denominator is 0 (a series without year-over-year change).

    Args:
        actual: Observed values of the horizon, ``(series, h)`` (or one series, ``(h,)``).
        forecast: Forecasts of the same weeks.
        history: The training weeks before the horizon, ``(series, n)`` with ``n > season``.
        season: Season length (52 weeks; 1 gives the plain MASE).
    """
    actual, forecast, history = (np.atleast_2d(np.asarray(a, dtype=float)) for a in (actual, forecast, history))
    if history.shape[1] <= season:
        raise ValueError(f"the seasonal MASE needs more than {season} training weeks, got {history.shape[1]}")
    scale = np.mean(np.abs(history[:, season:] - history[:, :-season]), axis=1)
    error = np.mean(np.abs(actual - forecast), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(scale > 0, error / scale, np.nan)


def yoy_change(values: np.ndarray, last_year: np.ndarray) -> np.ndarray:
    """Relative change of the mean of ``values`` over the mean of ``last_year`` (per row; inf from zero, NaN 0/0)."""
    now = np.atleast_2d(np.asarray(values, dtype=float)).mean(axis=1)
    before = np.atleast_2d(np.asarray(last_year, dtype=float)).mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        change = (now - before) / before
    return np.where(before > 0, change, np.where(now > 0, np.inf, np.nan))


def paper_class(change: np.ndarray, threshold: float = THRESHOLD) -> np.ndarray:
    """``+1`` increasing, ``0`` flat, ``-1`` decreasing (NaN changes count as flat)."""
    change = np.nan_to_num(np.asarray(change, dtype=float), nan=0.0)
    return (change > threshold).astype(int) - (change < -threshold).astype(int)


def class_accuracy(
    actual: np.ndarray, forecast: np.ndarray, last_year: np.ndarray, threshold: float = THRESHOLD
) -> float:
    """Share of series whose forecast has the year-over-year class of what happened (the paper's accuracy)."""
    truth = paper_class(yoy_change(actual, last_year), threshold)
    guess = paper_class(yoy_change(forecast, last_year), threshold)
    return float(np.mean(truth == guess))


def trend_class(change: float, threshold: float = THRESHOLD, emerging: float = EMERGING) -> str:
    """The report's class of one year-over-year change (see the module docstring)."""
    if change != change:  # NaN: nothing last year and nothing forecast
        return "flat"
    if change >= emerging:
        return "emerging"
    if change > threshold:
        return "rising"
    return "declining" if change < -threshold else "flat"
