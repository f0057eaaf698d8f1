from __future__ import annotations

import numpy as np

from benchmarks.rank import exact_top_k, run, synthetic


def test_exact_baseline_is_exact():
    designs, posts = synthetic(50, 400, 16, trending=10)
    idx, sim = exact_top_k(designs, posts, 3, chunk=7)
    full = posts @ designs.T
    assert np.array_equal(idx[:, 0], full.argmax(1))
    assert np.allclose(sim, -np.sort(-full, axis=1)[:, :3], atol=1e-6)
    planted = sim[:, 0] > 0.7
    assert 0.4 < planted.mean() < 0.8  # about 60 % of the posts are views of a trending design


def test_benchmark_runs_both_paths_on_a_small_catalog(capsys):
    r = run(n_posts=200, n_designs=2000, dim=32, k=5)
    assert r["recall_at_k"] > 0.95 and r["top50_overlap"] > 0.9
    assert r["milvus_total_s"] > 0 and r["exact_total_s"] > 0
