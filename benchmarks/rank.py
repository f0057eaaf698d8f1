"""``make bench-rank``: ranking time for 10k social posts x 100k catalog designs, product path vs exact numpy.

Synthetic unit vectors (no model): designs are random directions; a share of the posts are noisy views of a
few hundred "trending" designs (cosine ~0.85 to them), the rest random (below the match threshold). Both paths
find each post's top-k designs and then run the same scoring (``include.trends.scoring``) and table build:

* **product path**: the Milvus Lite collection (``embedding.index.CatalogIndex``, the index and search-path
  settings the product uses: by default the in-memory path of ``embedding.memory_search``, read from the
  collection on the first search, its read and build seconds counted in the search) searched with
  ``CatalogIndex.search`` (neighbours, metadata, exact re-scored similarity); ``--search-path milvus`` measures
  Milvus Lite's own search,
* **exact baseline**: a chunked float32 matrix product and ``argpartition`` over all designs in numpy.

Prints the seconds per stage, their ratio and the recall@k of the index against the exact neighbours. Loading
the vectors into Milvus is the embed stage's job and is reported apart.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def synthetic(n_posts: int, n_designs: int, dim: int, trending: int = 300, share: float = 0.6, seed: int = 0):
    """Unit design vectors and post vectors (``share`` of them near one of ``trending`` designs)."""
    rng = np.random.default_rng(seed)
    designs = rng.standard_normal((n_designs, dim), dtype=np.float32)
    designs /= np.linalg.norm(designs, axis=1, keepdims=True)
    posts = rng.standard_normal((n_posts, dim), dtype=np.float32)
    posts /= np.linalg.norm(posts, axis=1, keepdims=True)
    hot = rng.choice(n_designs, trending, replace=False)
    planted = rng.random(n_posts) < share
    source = hot[rng.integers(0, trending, n_posts)]
    posts[planted] = designs[source[planted]] + 0.6 * posts[planted] / np.sqrt(1.0)  # cosine ~0.85
    posts /= np.linalg.norm(posts, axis=1, keepdims=True)
    return designs, posts


def exact_top_k(designs: np.ndarray, posts: np.ndarray, k: int, chunk: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k (indices, similarities) per post by brute force."""
    idx = np.empty((len(posts), k), dtype=np.int64)
    sim = np.empty((len(posts), k), dtype=np.float32)
    for start in range(0, len(posts), chunk):
        s = posts[start : start + chunk] @ designs.T
        part = np.argpartition(-s, k, axis=1)[:, :k]
        vals = np.take_along_axis(s, part, axis=1)
        order = np.argsort(-vals, axis=1, kind="stable")
        idx[start : start + chunk] = np.take_along_axis(part, order, axis=1)
        sim[start : start + chunk] = np.take_along_axis(vals, order, axis=1)
    return idx, sim


def match_frame(ids: list[list[str]], sims: list[list[float]], n_posts: int) -> pd.DataFrame:
    """Match rows in the shape ``embedding.matching`` writes (metadata kept minimal)."""
    rows = []
    for p in range(n_posts):
        source = "pinterest" if p % 3 == 0 else "instagram"
        for rank, (d, s) in enumerate(zip(ids[p], sims[p], strict=True)):
            rows.append((f"post{p:06d}", source, "upcoming" if source == "pinterest" else "current",
                         f"https://social/{p}", f"images/full/post{p}.jpg", 10 + p % 500,
                         "2026-11-01T12:00:00+00:00", rank, d, float(s), d, "bench", f"Design {d}"))  # fmt: skip
    cols = ["post_sha256", "post_source", "horizon", "post_url", "post_image_key", "likes", "posted_at",
            "neighbour_rank", "design_sha256", "similarity", "product_id", "portal", "title"]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def score(matches: pd.DataFrame) -> pd.DataFrame:
    """The scoring and table build of a run (no near-duplicate, theme or colour work)."""
    from include.trends.ranking import build_table
    from include.trends.scoring import ScoringParams, score_designs, weighted_votes

    votes = weighted_votes(matches, None, "2026-11-01", ScoringParams(threshold=0.5))
    meta = {d: {"product_id": d, "title": d} for d in votes["design_id"].unique()}
    return build_table(score_designs(votes), votes, meta, {}, "2026-11-01", "bench", top_n=50)


def milvus_index(designs: np.ndarray, folder: Path, batch: int = 10_000, search_path: str | None = None):
    """A Milvus Lite collection holding ``designs`` (ids ``d<row>``), built as the product builds its own, with
    the product's index and search settings (``search_path`` overrides ``FTI_SEARCH_PATH``)."""
    from dataclasses import replace

    from embedding.index import CatalogIndex, IndexConfig
    from include.core.settings import get_settings

    config = IndexConfig.from_settings(get_settings())
    if search_path:
        config = replace(config, policy=replace(config.policy, path=search_path))
    index = CatalogIndex(str(folder / "bench.db"), "bench_catalog", designs.shape[1], config=config)
    index.ensure()
    for start in range(0, len(designs), batch):
        rows = [{"sha256": f"d{i:07d}"} for i in range(start, min(start + batch, len(designs)))]
        index.upsert(rows, designs[start : start + batch])
    index.client.flush(index.collection)
    from embedding.memory_search import warm

    warm(index)  # as the embed stage does after writing: the in-memory copy beside the file, when searched so
    index._memory = None  # a match run is a new process: it loads that copy (counted in its search time)
    return index


def run(
    n_posts: int, n_designs: int, dim: int, k: int, query_batch: int = 1000, search_path: str | None = None
) -> dict[str, float]:
    """Time both paths once; returns the measurements."""
    designs, posts = synthetic(n_posts, n_designs, dim)
    out: dict[str, float] = {}
    t = time.perf_counter()
    idx, sim = exact_top_k(designs, posts, k)
    out["exact_search_s"] = time.perf_counter() - t
    exact_ids = [[f"d{i:07d}" for i in row] for row in idx]
    t = time.perf_counter()
    table = score(match_frame(exact_ids, sim.tolist(), n_posts))
    out["exact_score_s"] = time.perf_counter() - t

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        index = milvus_index(designs, Path(tmp), search_path=search_path)
        out["milvus_load_s"] = time.perf_counter() - t
        try:
            from embedding.memory_search import choose_path

            # the first search below loads the in-memory copy (that path): its cost is counted in it
            out["path"] = choose_path(len(designs), True, index.config.policy)  # type: ignore[assignment]
            t = time.perf_counter()
            hits = []
            for start in range(0, n_posts, query_batch):
                hits += index.search(posts[start : start + query_batch], k)
            out["milvus_search_s"] = time.perf_counter() - t
            sample = posts[: min(n_posts, query_batch)]  # where the time goes: ids only vs ids + metadata + vectors
            t = time.perf_counter()
            index.search_ids(sample, k)
            out["sample_ids_s"] = time.perf_counter() - t
            t = time.perf_counter()
            index.search(sample, k)
            out["sample_full_s"] = time.perf_counter() - t
            out["sample_queries"] = len(sample)
        finally:
            index.close()
    ids = [[h["sha256"] for h in row] for row in hits]
    sims = [[h["similarity"] for h in row] for row in hits]
    t = time.perf_counter()
    milvus_table = score(match_frame(ids, sims, n_posts))
    out["milvus_score_s"] = time.perf_counter() - t
    out["recall_at_k"] = float(np.mean([len(set(a) & set(b)) / k for a, b in zip(ids, exact_ids, strict=True)]))
    out["top50_overlap"] = len(set(table["design_id"]) & set(milvus_table["design_id"])) / max(1, len(table))
    out["exact_total_s"] = out["exact_search_s"] + out["exact_score_s"]
    out["milvus_total_s"] = out["milvus_search_s"] + out["milvus_score_s"]
    return out


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m benchmarks.rank --posts 10000 --designs 100000``."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--designs", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--search-path", default=None, help="auto, milvus or memory (default: FTI_SEARCH_PATH)")
    args = parser.parse_args(argv)
    r = run(args.posts, args.designs, args.dim, args.top_k, search_path=args.search_path)
    import os

    print(f"ranking {args.posts:,} posts x {args.designs:,} designs (dim {args.dim}, top-{args.top_k}), one run, "
          f"load {os.getloadavg()[0]:.2f}")  # fmt: skip
    print(f"{'stage':<22}{'exact numpy':>14}{'product (' + str(r['path']) + ')':>22}")
    print(f"{'search (top-k)':<22}{r['exact_search_s']:>13.2f}s{r['milvus_search_s']:>13.2f}s")
    print(f"{'scoring + table':<22}{r['exact_score_s']:>13.2f}s{r['milvus_score_s']:>13.2f}s")
    print(f"{'ranking total':<22}{r['exact_total_s']:>13.2f}s{r['milvus_total_s']:>13.2f}s")
    print(f"ratio product / exact: {r['milvus_total_s'] / r['exact_total_s']:.2f}  "
          f"(search alone {r['milvus_search_s'] / r['exact_search_s']:.2f}; exact / product "
          f"{r['exact_total_s'] / r['milvus_total_s']:.2f}x faster)")  # fmt: skip
    print(f"recall@{args.top_k} of the index vs exact: {r['recall_at_k']:.4f}; "
          f"top-50 designs in common: {r['top50_overlap']:.0%}")  # fmt: skip
    print(f"product path, {r['sample_queries']:.0f} queries: ids only {r['sample_ids_s']:.2f}s, with metadata + stored "
          f"vectors (what match_social asks for) {r['sample_full_s']:.2f}s")  # fmt: skip
    print(f"(loading {args.designs:,} vectors into Milvus Lite, the embed stage's job: {r['milvus_load_s']:.1f}s)")


if __name__ == "__main__":
    main()
