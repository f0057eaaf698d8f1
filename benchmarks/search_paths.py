"""The embedded paths of ``make bench-search``: Milvus Lite by ``nq`` per call, and the in-memory paths.

On the Milvus Lite collection the search benchmark built, after its ``ef`` sweep:

* ``nq_sweep``: Milvus Lite's own search at the operating ``ef`` with ``nq`` queries per call (its sweet spot),
* ``memory``: the in-memory paths of :mod:`embedding.memory_search` (exact; HNSW at each swept ``ef``), read
  from that collection (the read and build seconds are reported),
* ``default``: the path the product's default settings choose at this catalog size, with its figures.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import numpy as np


def batched_qps(search, queries: np.ndarray, nq: int) -> tuple[float, list]:
    """QPS of ``search`` called with ``nq`` queries at a time, and what it found."""
    found: list = []
    start = time.perf_counter()
    for i in range(0, len(queries), nq):
        found.extend(search(queries[i : i + nq]))
    return len(queries) / (time.perf_counter() - start), found


def recall(found: list[list[str]], truth: np.ndarray, position: dict[str, int]) -> float:
    """recall@k of ``found`` ids against the exact rows ``truth``."""
    hits = sum(len({position[h] for h in f} & set(t.tolist())) for f, t in zip(found, truth, strict=True))
    return round(hits / truth.size, 4)


def nq_sweep(index, queries: np.ndarray, truth: np.ndarray, position: dict, args: argparse.Namespace) -> list[dict]:
    """Milvus Lite's QPS at each ``--lite-nq`` queries per call (the index's current ``ef``)."""
    rows = []
    for nq in sorted({int(v) for v in str(args.lite_nq).split(",") if v.strip()}):
        qps, found = batched_qps(lambda q: index.search_ids(q, args.k, "Bounded"), queries, nq)
        rows.append({"nq": nq, "qps_batch": round(qps, 1), "recall_at_k": recall(found, truth, position)})
    return rows


def memory_paths(
    index, queries: np.ndarray, truth: np.ndarray, position: dict, args: argparse.Namespace, configs: list,
    qps_one_per_call,
) -> dict:  # fmt: skip
    """Exact and HNSW (each of ``configs``' ``ef``) in memory over the collection's vectors, and the default's
    choice; ``qps_one_per_call`` is the search benchmark's."""
    from embedding.memory_search import SearchPolicy, choose_path
    from include.core.settings import Settings

    policy = SearchPolicy("memory", exact_max_rows=0, device=args.device)
    out: dict = {}
    for kind in ("exact", "hnsw"):
        kind_configs = configs if kind == "hnsw" else [index.config]
        policy = replace(policy, exact_max_rows=len(position) if kind == "exact" else 0)
        index.config = replace(kind_configs[0], policy=policy)
        index._memory = None
        mem = index.memory_search()
        rows = []
        for config in kind_configs:
            index.config = replace(config, policy=policy)
            mem.ef = config.ef

            def one(q: np.ndarray) -> list[list[str]]:
                return index.search_ids(q, args.k)

            one(queries[:2])
            single = min(len(queries), 200)
            qps_b, found = batched_qps(one, queries, args.batch)
            row = {
                "qps_one": round(qps_one_per_call(one, queries[:single]), 1),
                "qps_concurrent": round(qps_one_per_call(one, queries[: single * 2], args.clients), 1),
                "qps_batch": round(qps_b, 1), "recall_at_k": recall(found, truth, position),
            }  # fmt: skip
            rows.append({"ef": config.ef, **row} if kind == "hnsw" else row)
        head = {"read_s": round(mem.read_s, 1), "build_s": round(mem.build_s, 1)}
        if kind == "hnsw":
            good = [r for r in rows if r["recall_at_k"] >= args.min_recall]
            out[kind] = {**head, **(good[0] if good else max(rows, key=lambda r: r["recall_at_k"])), "sweep": rows}
        else:
            out[kind] = {**head, **rows[0]}
    defaults = Settings.model_fields
    default_policy = SearchPolicy(
        "auto", defaults["exact_search_max_rows"].default, defaults["memory_search_max_rows"].default
    )
    chosen = choose_path(len(position), True, default_policy)
    figures = out.get(chosen, {})
    if chosen == "hnsw":  # at the product's default ef when it was swept
        ef = defaults["hnsw_ef"].default
        figures = next((r for r in figures["sweep"] if r["ef"] == ef), figures)
    keep = ("ef", "qps_one", "qps_concurrent", "qps_batch", "recall_at_k")
    out["default"] = {"path": chosen, "exact_search_max_rows": default_policy.exact_max_rows,
                      **{k: figures[k] for k in keep if k in figures}}  # fmt: skip
    return out
