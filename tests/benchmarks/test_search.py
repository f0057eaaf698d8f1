"""The search benchmark on a small set: every query answered once per run, recall against exact top-k."""

from __future__ import annotations

import argparse
import threading

import numpy as np

from benchmarks import search as bench_search


def test_qps_one_per_call_sends_every_query_once_from_several_threads():
    queries = np.arange(40, dtype=np.float32).reshape(20, 2)
    seen: list[float] = []
    threads: set[int] = set()
    lock = threading.Lock()

    def search(q: np.ndarray) -> None:
        assert q.shape == (1, 2)
        with lock:
            seen.append(float(q[0, 0]))
            threads.add(threading.get_ident())

    qps = bench_search.qps_one_per_call(search, queries, clients=3)
    assert sorted(seen) == queries[:, 0].tolist()
    assert len(threads) >= 1 and qps > 0


def test_exact_ids_are_the_true_top_k():
    base, queries = bench_search.dataset(500, 7, 16, clusters=5)
    result = bench_search.exact(base, queries, k=3, batch=4, device="cpu", clients=2)
    brute = np.argsort(-(queries @ base.T), axis=1)[:, :3]
    assert all(set(a) == set(b) for a, b in zip(result["ids"], brute, strict=True))
    assert {"qps_one", "qps_concurrent", "qps_batch"} <= result.keys()


def test_run_on_milvus_lite_sweeps_ef_and_reports_recall_and_all_three_ratios(tmp_path):
    args = argparse.Namespace(
        vectors=600, queries=20, dim=16, clusters=6, k=5, batch=10, clients=2, backends="lite",
        index_type="HNSW", m=16, ef_construction=200, ef="5,64", nlist=16, nprobe="16", device="cpu",
        min_recall=0.9, memory=False,
    )  # fmt: skip
    result = bench_search.run(args)
    lite = result["lite"]
    assert [row["ef"] for row in lite["sweep"]] == [5, 64]
    assert lite["sweep"][1]["recall_at_k"] >= 0.9  # HNSW with ef 64 over 600 vectors: near exact
    assert lite["ef"] == bench_search.operating_point(lite["sweep"], 0.9)["ef"]
    for row in (lite, *lite["sweep"]):
        for key in ("qps_one", "qps_concurrent", "qps_batch"):
            assert row[key] > 0 and row[f"{key}_vs_exact"] == round(row[key] / result["exact"][key], 2)


def test_operating_point_is_the_cheapest_setting_that_reaches_the_recall():
    sweep = [{"ef": 16, "recall_at_k": 0.97}, {"ef": 32, "recall_at_k": 0.995}, {"ef": 64, "recall_at_k": 0.999}]
    assert bench_search.operating_point(sweep, 0.99)["ef"] == 32
    assert bench_search.operating_point(sweep, 0.9)["ef"] == 16
    assert bench_search.operating_point(sweep, 0.9999)["ef"] == 64  # none reaches it: the most accurate


def test_search_configs_sweep_ef_for_hnsw_and_nprobe_for_ivf():
    args = argparse.Namespace(index_type="HNSW", m=8, ef_construction=100, ef="64,16,64", nlist=32, nprobe="4")
    configs = bench_search.search_configs(args)
    assert [c.ef for c in configs] == [16, 64] and {(c.m, c.ef_construction) for c in configs} == {(8, 100)}
    args.index_type, args.nprobe = "IVF_FLAT", "8,2"
    assert [(c.nprobe, c.nlist) for c in bench_search.search_configs(args)] == [(2, 32), (8, 32)]


def test_sizes_sweep_the_embedded_paths_and_print_the_summary_line():
    args = argparse.Namespace(
        vectors=0, sizes="300,700", queries=20, dim=16, clusters=6, k=5, batch=10, clients=2, backends="lite",
        index_type="HNSW", m=16, ef_construction=100, ef="64", nlist=16, nprobe="16", device="cpu",
        min_recall=0.9, lite_nq="1,20", memory=True,
    )  # fmt: skip
    result = bench_search.run(args)
    assert list(result["by_size"]) == ["300", "700"] and result["vectors"] == 700
    lite = result["lite"]
    assert [row["nq"] for row in lite["nq_sweep"]] == [1, 20]
    memory = lite["memory"]
    assert memory["exact"]["recall_at_k"] >= 0.99  # exact (ties at the 10th neighbour may break either way)
    assert memory["hnsw"]["recall_at_k"] >= 0.9 and [r["ef"] for r in memory["hnsw"]["sweep"]] == [64]
    assert memory["default"]["path"] == "exact"  # 700 rows: under the default exact threshold
    assert memory["default"]["qps_batch"] == memory["exact"]["qps_batch"]
    ratio = memory["exact"]["qps_batch"] / result["exact"]["qps_batch"]
    recall = memory["exact"]["recall_at_k"]
    assert result["line"] == f"search: lite {ratio:.2f}x exact, server n/a at recall@5 {recall:.4f}"
