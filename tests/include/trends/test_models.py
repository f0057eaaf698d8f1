"""The forecasters on synthetic weekly series whose trend, season and leading signal are known."""

from __future__ import annotations

import numpy as np
import pytest

from include.trends.metrics import seasonal_mase, trend_class, yoy_change
from include.trends.models import TrendModel, library_forecast


def block(n=24, weeks=160, h=52, lead=13, seed=1):
    """Series growing or shrinking exponentially (-1 .. +1 log units a year) on a yearly season, 5 % noise, and a
    signal that runs ``lead`` weeks ahead of each."""
    rng = np.random.default_rng(seed)
    growth = np.linspace(-1.0, 1.0, n)
    t = np.arange(weeks + h + lead)
    y = 0.05 * np.exp(growth[:, None] * t / 52) * (1 + 0.4 * np.sin(2 * np.pi * t / 52))
    y = y * (1 + 0.05 * rng.standard_normal(y.shape))
    return y[:, : weeks + h], 1.2 * y[:, lead : weeks + h + lead], growth


def test_fti_finds_the_trend_and_the_signal_helps():
    y, signal, growth = block()
    train, test, s = y[:, :160], y[:, 160:], signal[:, :160]
    fti = TrendModel().forecast(train, s, 52)
    plain = TrendModel(use_signal=False).forecast(train, s, 52)
    naive = train[:, -52:]
    truth, guess = yoy_change(test, train[:, -52:]), yoy_change(fti.mean, train[:, -52:])
    assert np.corrcoef(truth, guess)[0, 1] > 0.99
    clear = np.abs(truth) > 0.8  # the strongest trends get their class
    assert [trend_class(c) for c in guess[clear]] == [trend_class(c) for c in truth[clear]]
    assert trend_class(guess[-1]) == "rising" and trend_class(guess[0]) == "declining"
    mase = {name: seasonal_mase(test, f, train).mean() for name, f in
            (("fti", fti.mean), ("plain", plain.mean), ("naive", naive))}  # fmt: skip
    assert mase["fti"] < mase["plain"] < mase["naive"], mase
    assert set(fti.model) == {"fti"} and set(plain.model) == {"fti-nosignal"}
    assert (fti.lower <= fti.mean).all() and (fti.mean <= fti.upper).all() and (fti.lower >= 0).all()
    assert 0.6 < np.mean((test >= fti.lower) & (test <= fti.upper)) <= 1.0


def test_fti_keeps_its_prior_on_a_short_history_and_reads_signals_row_by_row():
    y, signal, _ = block(n=4, weeks=90)
    signal[1] = np.nan  # one series has no signal: forecast without it, the others with theirs
    beta, spread, rows = TrendModel().fit_level(y[:, :90], signal[:, :90], 52)
    assert rows == 0 and beta.tolist() == [0.25, 0.25] and spread == 0.2  # no origin has a year after it
    fc = TrendModel().forecast(y[:, :90], signal[:, :90], 60)
    assert fc.mean.shape == (4, 60) and fc.model == ["fti", "fti-nosignal", "fti", "fti"]
    with pytest.raises(ValueError, match="78 weeks"):
        TrendModel().forecast(y[:, :77])
    with pytest.raises(ValueError, match="shape"):
        TrendModel().forecast(y[:, :90], signal[:2, :90])


def test_library_models_through_statsforecast():
    y, _, _ = block(n=3, weeks=110)
    naive = library_forecast("seasonal-naive", y[:, :110], 8)
    assert (
        np.allclose(naive.mean, y[:, 58:66]) and (naive.lower < naive.mean).all() and naive.model[0] == "seasonal-naive"
    )
    theta = library_forecast("auto-theta", y[:, :110], 8)
    assert theta.mean.shape == (3, 8) and np.isfinite(theta.mean).all()
    with pytest.raises(ValueError, match="unknown library model"):
        library_forecast("prophet", y, 8)
