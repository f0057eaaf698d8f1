"""The paper's metrics on toy cases computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from include.trends.metrics import class_accuracy, paper_class, seasonal_mase, trend_class, yoy_change


def test_seasonal_mase_by_hand():
    history = np.array([1.0, 2.0, 3.0, 4.0])  # season 2: |3-1|, |4-2| -> scale 2
    assert seasonal_mase([5.0, 6.0], [4.0, 8.0], history, season=2)[0] == pytest.approx(1.5 / 2)
    assert seasonal_mase([5.0, 6.0], history[-2:], history, season=2)[0] == pytest.approx(1.0)  # seasonal naive
    two = seasonal_mase([[5.0, 6.0], [1.0, 1.0]], [[5.0, 6.0], [0.0, 2.0]], [history, [1.0, 1.0, 1.0, 1.0]], 2)
    assert two[0] == 0.0 and np.isnan(two[1])  # a series without year-over-year change has no scale
    with pytest.raises(ValueError, match="more than 52"):
        seasonal_mase(np.ones(3), np.ones(3), np.ones(52))


def test_year_over_year_classes_by_hand():
    last_year = np.array([[2.0, 2.0], [2.0, 2.0], [2.0, 2.0], [0.0, 0.0], [0.0, 0.0]])
    change = yoy_change([[3.0, 3.0], [3.0, 3.4], [0.8, 0.8], [0.0, 1.0], [0.0, 0.0]], last_year)
    assert change[:3] == pytest.approx([0.5, 0.6, -0.6]) and change[3] == np.inf and np.isnan(change[4])
    assert paper_class(change).tolist() == [0, 1, -1, 1, 0]  # +0.5 exactly is still flat
    assert [trend_class(c) for c in change] == ["flat", "rising", "declining", "emerging", "flat"]
    assert trend_class(3.0) == "emerging" and trend_class(2.99) == "rising"


def test_class_accuracy_by_hand():
    last_year = np.full((4, 2), 10.0)
    actual = np.array([[20.0, 20.0], [10.0, 10.0], [2.0, 2.0], [16.0, 16.0]])  # up, flat, down, up
    forecast = np.array([[18.0, 18.0], [12.0, 12.0], [9.0, 9.0], [14.0, 14.0]])  # up, flat, flat, flat
    assert class_accuracy(actual, forecast, last_year) == 0.5
