"""The projection benchmark: its scores on known vectors, and a tiny run on the real photos when present."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks import projection as bench

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "fashion-product-images"


def test_scores_count_category_street_and_same_top1():
    photos = np.eye(4, dtype=np.float32) + 0.01
    photos[1] = photos[0] + 0.1 * photos[1]  # 0 and 1 are each other's nearest, as are 2 and 3 below
    photos[3] = photos[2] + 0.1 * photos[3]
    photos /= np.linalg.norm(photos, axis=1, keepdims=True)
    views = photos[[0, 1, 3, 2]]  # views of 2 and 3 swapped: half the street queries find their photo
    categories = np.array(["a", "a", "b", "c"])
    out, top = bench.scores(photos, views, categories, np.array([1, 0, 3, 3]))
    assert top.tolist() == [1, 0, 3, 2]
    assert out == {"category_r1": 0.5, "street_r1": 0.5, "same_top1_as_full": 0.75}


@pytest.mark.skipif(not (REAL / "styles.csv").exists(), reason="real photos not beside this checkout")
def test_tiny_run_on_real_photos_evaluates_each_half_with_the_other_halfs_pca():
    result = bench.main(["--images", str(REAL), "--limit", "40", "--dims", "72", "--no-street", "--workers", "0"])
    assert result["photos"] == 40 and result["full_dim"] == 1344
    assert len(result["splits"]) == 2
    for rows in result["splits"].values():
        assert set(rows) == {"1344", "72"} and rows["72"]["pca"] == 8
        assert 0 <= rows["72"]["category_r1"] <= 1 and "street_r1" not in rows["72"]
