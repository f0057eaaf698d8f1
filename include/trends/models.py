"""Forecasting models over a block of weekly series: rows are series, columns weeks (oldest first, no gaps).

* **Library models** (statsforecast, :func:`library_forecast`): ``seasonal-naive`` (the baseline), ``auto-ets``,
  ``auto-theta``, ``mstl``, ``tbats``, each with its own 80 % prediction interval.
* **The project's model** (:class:`TrendModel`, ``fti``), in the spirit of HERMES (a per-series statistical
  forecast corrected by a global model fed the weak signal):

  1. *Per series*, the seasonal profile: the last 52 weeks smoothed around the year (a Gaussian kernel of
     ``sigma`` weeks, wrapping December into January), blended with the year before it (rescaled to the last
     year's mean; weight ``1 - last_year_weight``).
  2. *Across series*, the level of the coming year relative to that profile: ``exp(b_main * m + b_signal * s)``
     with ``m`` the log ratio of the series' last ``window`` weeks to the same weeks a year earlier and ``s`` the
     same ratio of its leading signal (the fashion-week series, or the influencers' series of the benchmark).
     The coefficients are a ridge fit over every rolling origin the history allows (each origin's realised
     next-year level as the target), shrunk towards ``prior`` (tuned on the shared series' 2017 from 2015-2016),
     so a short history keeps the prior. A series without a signal gets the fit without it (``fti-nosignal``).
  3. *Interval*: normal, from the series' week-to-week noise (its year-over-year differences / sqrt 2) and the
     spread of the level fit's residuals, narrowed by ``interval_scale`` (0.7: the errors are heavier-tailed
     than normal; calibrated so that 80 % of the 2017 validation weeks fall inside); never below zero.

A block needs ``season + window`` weeks (78) for ``fti``; fewer is the caller's ``insufficient-history``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

LIBRARY_MODELS = ("seasonal-naive", "auto-ets", "auto-theta", "mstl", "tbats")


@dataclass
class Forecast:
    """Forecasts of a block: ``(series, h)`` arrays and the model that made each row."""

    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    model: list[str]


def _statsforecast_model(name: str, season: int):
    from statsforecast.models import MSTL, TBATS, AutoETS, AutoTheta, SeasonalNaive

    makers = {
        "seasonal-naive": lambda: SeasonalNaive(season, alias="m"),
        "auto-ets": lambda: AutoETS(season_length=season, alias="m"),
        "auto-theta": lambda: AutoTheta(season_length=season, alias="m"),
        "mstl": lambda: MSTL(season_length=season, alias="m"),
        "tbats": lambda: TBATS(season_length=[season], alias="m"),
    }
    if name not in makers:
        raise ValueError(f"unknown library model {name!r}; one of {', '.join(LIBRARY_MODELS)}")
    return makers[name]()


def library_forecast(name: str, y: np.ndarray, h: int, level: int = 80, season: int = 52) -> Forecast:
    """Forecast every row of ``y`` ``h`` weeks ahead with one statsforecast model (seasonal naive when it fails).

    Args:
        name: One of :data:`LIBRARY_MODELS`.
        y: ``(series, weeks)``, no NaN.
        h: Weeks ahead.
        level: Prediction interval level (percent).
        season: Season length in weeks.
    """
    from statsforecast import StatsForecast
    from statsforecast.models import SeasonalNaive

    n, t = y.shape
    frame = pd.DataFrame({"unique_id": np.repeat(np.arange(n), t), "ds": np.tile(np.arange(t), n), "y": y.ravel()})
    engine = StatsForecast(models=[_statsforecast_model(name, season)], freq=1, n_jobs=1,
                           fallback_model=SeasonalNaive(season, alias="m"))  # fmt: skip
    out = engine.forecast(df=frame, h=h, level=[level]).sort_values(["unique_id", "ds"])

    def block(column: str) -> np.ndarray:
        return out[column].to_numpy(dtype=float).reshape(n, h)

    return Forecast(block("m"), block(f"m-lo-{level}"), block(f"m-hi-{level}"), [name] * n)


def _log_ratio(x: np.ndarray, t: int, window: int, season: int, eps: np.ndarray) -> np.ndarray:
    """log of the mean of ``x[:, t-window:t]`` over the mean of the same weeks a season earlier (NaN stays NaN)."""
    now = x[:, t - window : t].mean(axis=1)
    before = x[:, t - season - window : t - season].mean(axis=1)
    return np.log((now + eps) / (before + eps))


@dataclass(frozen=True)
class TrendModel:
    """The project's forecaster ``fti`` (see the module docstring); the defaults are the tuned recipe."""

    season: int = 52
    window: int = 26
    sigma: float = 2.0
    last_year_weight: float = 0.7
    prior: tuple[float, float] = (0.25, 0.25)  # (main, signal)
    ridge: float = 100.0
    prior_spread: float = 0.2  # log-level residual spread assumed before any fit
    clip: float = 1.0  # the level moves by at most e**clip either way
    eps: float = 0.01  # ratio floor, relative to each series' mean
    level: int = 80
    interval_scale: float = 0.7
    use_signal: bool = True

    @property
    def min_weeks(self) -> int:
        """Weeks of history a series needs."""
        return self.season + self.window

    def _eps(self, x: np.ndarray) -> np.ndarray:
        with warnings.catch_warnings():  # a row without any value (no signal) stays NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            return self.eps * np.nanmean(x[:, -2 * self.season :], axis=1) + 1e-12

    def profile(self, y: np.ndarray) -> np.ndarray:
        """The seasonal profile of the 52 weeks after the last column of ``y``."""
        from scipy.ndimage import gaussian_filter1d

        s, t = self.season, y.shape[1]
        last = gaussian_filter1d(y[:, t - s :].astype(float), self.sigma, axis=1, mode="wrap")
        if t < 2 * s:
            return last
        before = gaussian_filter1d(y[:, t - 2 * s : t - s].astype(float), self.sigma, axis=1, mode="wrap")
        eps = self._eps(y)[:, None]
        before = before * (last.mean(axis=1, keepdims=True) + eps) / (before.mean(axis=1, keepdims=True) + eps)
        return self.last_year_weight * last + (1 - self.last_year_weight) * before

    def _features(self, y: np.ndarray, signal: np.ndarray | None, t: int) -> np.ndarray:
        columns = [_log_ratio(y, t, self.window, self.season, self._eps(y[:, :t]))]
        if signal is not None:
            columns.append(_log_ratio(signal, t, self.window, self.season, self._eps(signal[:, :t])))
        return np.stack(columns, axis=1)

    def fit_level(self, y: np.ndarray, signal: np.ndarray | None, h: int) -> tuple[np.ndarray, float, int]:
        """Ridge coefficients of the level model over the rolling origins of ``y``, the residual spread, rows."""
        prior = np.array(self.prior[: 1 if signal is None else 2])
        rows, targets = [], []
        for t in range(self.min_weeks, y.shape[1] - h + 1):
            x = self._features(y[:, :t], None if signal is None else signal[:, :t], t)
            eps = self._eps(y[:, :t])
            target = np.log((y[:, t : t + h].mean(axis=1) + eps) / (self.profile(y[:, :t]).mean(axis=1) + eps))
            keep = np.isfinite(x).all(axis=1)
            rows.append(x[keep])
            targets.append(target[keep])
        if not rows or not sum(len(r) for r in rows):
            return prior, self.prior_spread, 0
        x, z = np.concatenate(rows), np.concatenate(targets)
        beta = np.linalg.solve(x.T @ x + self.ridge * np.eye(len(prior)), x.T @ z + self.ridge * prior)
        residual = z - x @ beta
        weight = 50.0  # pseudo-rows of the prior spread
        spread = float(np.sqrt((np.sum(residual**2) + weight * self.prior_spread**2) / (len(z) + weight)))
        return beta, spread, len(z)

    def forecast(self, y: np.ndarray, signal: np.ndarray | None = None, h: int = 52) -> Forecast:
        """Forecast every row of ``y`` (``(series, weeks)``, no NaN) ``h`` weeks ahead.

        Args:
            y: The series.
            signal: Their leading signals, same shape; a row with NaN in the weeks the model reads is forecast
                without its signal. None (or ``use_signal=False``): every row without.
            h: Weeks ahead.
        """
        from scipy.stats import norm

        y = np.asarray(y, dtype=float)
        n, t = y.shape
        if t < self.min_weeks:
            raise ValueError(f"fti needs {self.min_weeks} weeks of history, got {t}")
        if signal is not None and self.use_signal:
            signal = np.asarray(signal, dtype=float)
            if signal.shape != y.shape:
                raise ValueError(f"signal shape {signal.shape} differs from the series' {y.shape}")
        else:
            signal = None
        beta0, spread0, _ = self.fit_level(y, None, h)
        level = np.clip(self._features(y, None, t) @ beta0, -self.clip, self.clip)
        spread = np.full(n, spread0)
        with_signal = np.zeros(n, dtype=bool)
        if signal is not None:
            beta1, spread1, _ = self.fit_level(y, signal, h)
            x1 = self._features(y, signal, t)
            with_signal = np.isfinite(x1).all(axis=1)
            level[with_signal] = np.clip(x1[with_signal] @ beta1, -self.clip, self.clip)
            spread[with_signal] = spread1
        profile = self.profile(y)
        mean = np.tile(profile, (1, -(-h // self.season)))[:, :h] * np.exp(level)[:, None]
        noise = np.std(y[:, self.season :] - y[:, : -self.season], axis=1) / np.sqrt(2.0)
        z = self.interval_scale * norm.ppf(0.5 + self.level / 200)
        half = z * np.sqrt(noise[:, None] ** 2 + (mean * spread[:, None]) ** 2)
        models = ["fti" if s else "fti-nosignal" for s in with_signal]
        return Forecast(mean, np.maximum(mean - half, 0.0), mean + half, models)
