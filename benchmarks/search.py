"""Search speed and recall of the catalog index against exact top-k, in one run (``make bench-search``).

    python -m benchmarks.search --vectors 100000 --queries 1000 [--backends lite,server] [--out f.json]

A seeded clustered set of unit vectors (``--clusters`` garment-like groups, width ``--dim``, 1344 = the
encoder's 1280 features + 64 colour bins) is indexed with the configured COSINE index (HNSW by default) in Milvus
Lite and in a real Milvus server (``milvus-server`` started on loopback for the run, then stopped). Queries are
fresh samples of the same distribution. Exact top-10 is a matrix product + ``topk`` in torch (CUDA when present).

Reported per backend: insert and index-build seconds, QPS one query per call from one client (latency-bound: the
server idles while the client builds the next request), from ``--clients`` concurrent clients one query per call
(how a service is hit by several readers; throughput-bound), and in batches of ``--batch`` queries (how the match
stage calls it), and recall@10 against exact search; the same three QPS figures for exact search (the concurrent
one with as many threads calling torch at once), and the speed-up ratios. Searches use ``Bounded`` consistency
(the data is written before the clock starts); the pipeline's own searches are ``Strong``.

The index is built once per backend and searched at every value of ``--ef`` (HNSW) or ``--nprobe`` (IVF): the
recall/QPS trade-off to pick the catalog's ``hnsw_ef`` from. Each setting's figures are under ``sweep``; the
top-level ones are the operating point, the cheapest setting whose recall@k reaches ``--min-recall`` (0.99).
On Milvus Lite also its QPS by ``nq`` per call and the in-memory paths (:mod:`benchmarks.search_paths`); the
``default`` there is what the product's default settings search with at that size.

``--sizes 10000,100000`` runs the whole benchmark at each catalog size (under ``by_size``; the top level is the
last size's). The last line printed is ``search: lite Xx exact, server Yx exact at recall@10 R``: the embedded
default batched (``--batch`` per call) against exact batched, the server with ``--clients`` clients against
exact from as many threads, at the largest size, R the lower of the two recalls.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from embedding.index import IndexConfig


def dataset(n: int, queries: int, dim: int, clusters: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors around ``clusters`` centres (catalog), and fresh queries from the same mixture."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim)).astype(np.float32)

    def draw(m: int) -> np.ndarray:
        out = np.empty((m, dim), np.float32)
        for start in range(0, m, 20000):
            k = min(20000, m - start)
            out[start : start + k] = centres[rng.integers(0, clusters, k)] + 0.7 * rng.normal(size=(k, dim))
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    return draw(n), draw(queries)


def qps_one_per_call(search: Callable[[np.ndarray], object], queries: np.ndarray, clients: int = 1) -> float:
    """Queries per second when ``clients`` threads (1: one client) each send their share of ``queries``, one query
    per call."""
    shares = [queries[c::clients] for c in range(clients)]

    def work(share: np.ndarray) -> None:
        for i in range(len(share)):
            search(share[i : i + 1])

    with ThreadPoolExecutor(clients) as pool:
        start = time.perf_counter()
        list(pool.map(work, shares))
        return len(queries) / (time.perf_counter() - start)


def exact(base: np.ndarray, queries: np.ndarray, k: int, batch: int, device: str, clients: int = 4) -> dict:
    """Exact top-k ids, and the QPS of exact search one query at a time and in batches."""
    import torch

    b = torch.from_numpy(base).to(device)

    def topk(q: np.ndarray) -> np.ndarray:
        sims = torch.from_numpy(q).to(device) @ b.T
        return torch.topk(sims, k, dim=1).indices.cpu().numpy()

    topk(queries[:2])
    ids = np.concatenate([topk(queries[i : i + batch]) for i in range(0, len(queries), batch)])
    single = min(len(queries), 200)
    qps_one = qps_one_per_call(topk, queries[:single])
    qps_concurrent = qps_one_per_call(topk, queries[: single * 2], clients)
    start = time.perf_counter()
    for i in range(0, len(queries), batch):
        topk(queries[i : i + batch])
    qps_batch = len(queries) / (time.perf_counter() - start)
    return {"ids": ids, "qps_one": qps_one, "qps_concurrent": qps_concurrent, "qps_batch": qps_batch}


def _compact(client, timeout: float = 3600.0) -> None:
    """Merge the small segments of a bulk load (as a server's background compaction would, later): every query
    visits every segment, so their number sets the search cost."""
    job = client.compact("bench")
    deadline = time.monotonic() + timeout
    while str(client.get_compaction_state(job)).lower() != "completed":
        if time.monotonic() > deadline:
            raise TimeoutError(f"compaction not done after {timeout:.0f} s")
        time.sleep(0.5)


def search_configs(args: argparse.Namespace) -> list[IndexConfig]:
    """One index config per search setting to sweep: each ``--ef`` value (HNSW) or ``--nprobe`` value (IVF)."""
    from embedding.index import IndexConfig

    base = IndexConfig(args.index_type, args.m, args.ef_construction, nlist=args.nlist)
    if args.index_type.upper().startswith("IVF"):
        return [replace(base, ef=0, nprobe=v) for v in sorted(set(_ints(args.nprobe)))]
    return [replace(base, ef=v, nprobe=0) for v in sorted(set(_ints(args.ef)))]


def _ints(text: str | int) -> list[int]:
    return [int(v) for v in str(text).split(",") if v.strip()]


def operating_point(sweep: list[dict], min_recall: float) -> dict:
    """The cheapest swept setting (smallest ef / nprobe) whose recall reaches ``min_recall``, else the most
    accurate one."""
    good = [row for row in sweep if row["recall_at_k"] >= min_recall]
    return good[0] if good else max(sweep, key=lambda row: row["recall_at_k"])


def _measure(index, queries: np.ndarray, truth: np.ndarray, position: dict[str, int], args: argparse.Namespace) -> dict:
    """QPS (one client, ``--clients`` clients, batched) and recall@k of the index's current search setting
    (``position``: stored id -> row of the base vectors)."""

    def one(q: np.ndarray) -> list[list[str]]:
        return index.search_ids(q, args.k, "Bounded")

    one(queries[:2])
    single = min(len(queries), 200)
    qps_one = qps_one_per_call(one, queries[:single])
    qps_concurrent = qps_one_per_call(one, queries[: single * 2], args.clients)
    start = time.perf_counter()
    found = []
    for i in range(0, len(queries), args.batch):
        found.extend(one(queries[i : i + args.batch]))
    qps_batch = len(queries) / (time.perf_counter() - start)
    hits = sum(len({position[h] for h in f} & set(t.tolist())) for f, t in zip(found, truth, strict=True))
    setting = {"ef": index.config.ef} if index.config.index_type == "HNSW" else {"nprobe": index.config.nprobe}
    return {
        **setting, "qps_one": round(qps_one, 1), "qps_concurrent": round(qps_concurrent, 1),
        "qps_batch": round(qps_batch, 1), "recall_at_k": round(hits / truth.size, 4),
    }  # fmt: skip


def backend(uri: str, base: np.ndarray, queries: np.ndarray, truth: np.ndarray, args: argparse.Namespace) -> dict:
    """Insert and build once in one Milvus, then measure every search setting of the sweep; recall@k against
    ``truth``. The top-level figures are the :func:`operating_point`'s, every setting's are under ``sweep``."""
    from embedding.index import CatalogIndex
    from embedding.lock import is_lite

    configs = search_configs(args)
    ids = [f"{i:064x}" for i in range(len(base))]
    with CatalogIndex(uri, "bench", base.shape[1], config=configs[0]) as index:
        if index.client.has_collection("bench"):
            index.client.drop_collection("bench")
        index.ensure()
        start = time.perf_counter()
        for s in range(0, len(base), 2000):
            index.upsert([{"sha256": i} for i in ids[s : s + 2000]], base[s : s + 2000])
        insert_s = time.perf_counter() - start
        start = time.perf_counter()
        if is_lite(uri):
            index.client.flush("bench")
            index.client.release_collection("bench")  # Milvus Lite builds its index on the next load
        else:
            # A server builds in the background; segments loaded before their index exists are searched brute
            # force (measured: 28 ms per single query at 100k x 1344 instead of ~5 ms), so wait, then compact.
            index.wait_until_built()
            _compact(index.client)
        index.wait_for_index()  # server: the compacted segments' index, then reload; Milvus Lite: load
        build_s = time.perf_counter() - start
        report = index.index_report()
        # each query searches every loaded segment (Milvus Lite has no segment listing)
        report["segments"] = None if is_lite(uri) else len(index.client.list_loaded_segments("bench"))
        position = {h: n for n, h in enumerate(ids)}
        sweep = []
        for config in configs:  # search settings only: the built index is the same
            index.config = config
            sweep.append(_measure(index, queries, truth, position, args))
        point = operating_point(sweep, args.min_recall)
        embedded = {}
        if is_lite(uri) and getattr(args, "memory", True):
            from benchmarks.search_paths import memory_paths, nq_sweep

            index.config = next(c for c in configs if c.ef == point.get("ef", 0) and c.nprobe == point.get("nprobe", 0))
            embedded["nq_sweep"] = nq_sweep(index, queries, truth, position, args)
            embedded["memory"] = memory_paths(index, queries, truth, position, args, configs, qps_one_per_call)
    head = {"insert_s": round(insert_s, 1), "build_s": round(build_s, 1)}
    return {**head, **point, "index": report, "sweep": sweep, **embedded}


def run(args: argparse.Namespace) -> dict:
    """:func:`run_size` at each of ``--sizes`` (default: ``--vectors``); the last size's figures at the top level,
    every size's under ``by_size``, and the summary ``line``."""
    import os

    sizes = _ints(getattr(args, "sizes", None) or args.vectors)
    by_size = {}
    for n in sizes:
        by_size[str(n)] = run_size(argparse.Namespace(**{**vars(args), "vectors": n}))
    result = {**by_size[str(sizes[-1])], "by_size": by_size, "load": os.getloadavg()}
    result["line"] = summary_line(result)
    return result


def summary_line(result: dict) -> str:
    """``search: lite Xx exact, server Yx exact at recall@10 R`` (what is missing reads ``n/a``)."""
    parts, recalls = [], []
    default = result.get("lite", {}).get("memory", {}).get("default") or result.get("lite", {})
    if "qps_batch" in default:
        parts.append(f"lite {default['qps_batch'] / result['exact']['qps_batch']:.2f}x exact")
        recalls.append(default["recall_at_k"])
    else:
        parts.append("lite n/a")
    server = result.get("server", {})
    if "qps_concurrent" in server:
        parts.append(f"server {server['qps_concurrent'] / result['exact']['qps_concurrent']:.2f}x exact")
        recalls.append(server["recall_at_k"])
    else:
        parts.append("server n/a")
    recall = f"{min(recalls):.4f}" if recalls else "n/a"
    return f"search: {', '.join(parts)} at recall@{result['k']} {recall}"


def run_size(args: argparse.Namespace) -> dict:
    """Exact search, then each backend, on the same data."""
    from training.backbones import resolve_device
    from training.config import parse_overrides

    device = resolve_device(args.device)
    server_config = parse_overrides(getattr(args, "server_config", []))
    base, queries = dataset(args.vectors, args.queries, args.dim, args.clusters)
    truth = exact(base, queries, args.k, args.batch, device, args.clients)
    result = {
        "vectors": args.vectors, "queries": args.queries, "dim": args.dim, "k": args.k, "batch": args.batch,
        "index_type": args.index_type, "exact_device": device, "clients": args.clients, "min_recall": args.min_recall,
        "server_config": list(getattr(args, "server_config", [])),
        "exact": {key: round(truth[key], 1) for key in ("qps_one", "qps_concurrent", "qps_batch")},
    }  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.backends.split(","):
            if name == "lite":
                result["lite"] = backend(str(Path(tmp) / "bench.db"), base, queries, truth["ids"], args)
            elif name == "server":
                from embedding.milvus_server import MilvusServer, MilvusServerUnavailable

                try:
                    with MilvusServer(Path(tmp) / "server", grace=5, config=server_config) as server:
                        result["server"] = backend(server.uri, base, queries, truth["ids"], args)
                except MilvusServerUnavailable as exc:
                    result["server"] = {"skipped": str(exc)[:300]}
            for row in [result.get(name, {}), *result.get(name, {}).get("sweep", [])]:
                for key in ("qps_one", "qps_concurrent", "qps_batch"):
                    if key in row:
                        row[f"{key}_vs_exact"] = round(row[key] / result["exact"][key], 2)
    return result


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vectors", type=int, default=100_000)
    parser.add_argument("--sizes", default=None, help="catalog sizes to sweep (comma list; default --vectors)")
    parser.add_argument("--lite-nq", default="10,100,1000", help="Milvus Lite queries per call to sweep")
    parser.add_argument("--no-memory", dest="memory", action="store_false", help="skip the in-memory paths")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--dim", type=int, default=1344)
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--batch", type=int, default=100, help="queries per call in the batched run")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients in the concurrent run")
    parser.add_argument("--backends", default="lite,server")
    parser.add_argument("--index-type", default="HNSW")
    parser.add_argument("--m", type=int, default=16)
    parser.add_argument("--ef-construction", type=int, default=200)
    parser.add_argument("--ef", default="16,32,64,128", help="HNSW search ef values to sweep (comma list)")
    parser.add_argument("--nlist", type=int, default=1024)
    parser.add_argument("--nprobe", default="8,16,32,64", help="IVF nprobe values to sweep (comma list)")
    parser.add_argument("--min-recall", type=float, default=0.99, help="recall@k the reported setting must reach")
    parser.add_argument("--device", default="auto", help="exact search device")
    parser.add_argument(
        "--server-config", action="append", default=[], metavar="KEY=VALUE",
        help="milvus.yaml setting for the benchmark's server, e.g. dataCoord.segment.maxSize=1024 (repeatable)",
    )  # fmt: skip
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    result = run(args)
    text = json.dumps(result)
    print(text, flush=True)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(result["line"], flush=True)


if __name__ == "__main__":
    main()
