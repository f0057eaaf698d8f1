"""The in-memory search path: chosen by size and backend, exact equal to brute force, Milvus Lite the store."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from embedding.index import CatalogIndex, IndexConfig
from embedding.memory_search import MemorySearch, SearchPolicy, choose_path, sidecar_path


def unit(n: int, dim: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_path_is_chosen_by_backend_and_catalog_size():
    auto = SearchPolicy("auto", exact_max_rows=1000, memory_max_rows=5000)
    assert choose_path(1000, True, auto) == "exact"
    assert choose_path(1001, True, auto) == "hnsw"
    assert choose_path(5001, True, auto) == "milvus"  # does not fit the memory budget: the index answers
    assert choose_path(10, False, auto) == "milvus"  # a server keeps its own searches
    assert choose_path(10, False, replace(auto, path="memory")) == "exact"
    assert choose_path(10, True, replace(auto, path="milvus")) == "milvus"
    with pytest.raises(ValueError, match="search path"):
        choose_path(10, True, replace(auto, path="gpu"))


def test_exact_path_is_brute_force_and_hnsw_nearly():
    base, queries = unit(3000, 24, 0), unit(50, 24, 1)
    brute = np.argsort(-(queries @ base.T), axis=1, kind="stable")[:, :10]
    ids = [f"r{i}" for i in range(len(base))]
    exact = MemorySearch(ids, base, "exact")
    positions, sims = exact.search(queries, 10)
    assert np.array_equal(positions, brute)
    assert np.allclose(sims, np.take_along_axis(queries @ base.T, brute, axis=1), atol=1e-5)
    assert exact.search_ids(queries[:1], 3) == [[f"r{i}" for i in brute[0, :3]]]
    hnsw = MemorySearch(ids, base, "hnsw", m=16, ef_construction=100, ef=128)
    found, _ = hnsw.search(queries, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, brute, strict=True)])
    assert recall >= 0.95
    few, _ = MemorySearch(ids[:3], base[:3]).search(queries[:2], 10)
    assert few.shape == (2, 3)  # fewer rows than k: every row, no padding


def test_lite_collection_is_searched_in_memory_with_the_same_answers_as_milvus(tmp_path):
    base, queries = unit(400, 16, 2), unit(12, 16, 3)
    rows = [{"sha256": f"{i:064x}", "title": f"t{i}", "price": float(i)} for i in range(len(base))]
    policy = SearchPolicy("auto", exact_max_rows=1000)
    with CatalogIndex(str(tmp_path / "m.db"), "c", 16, config=IndexConfig(ef=400, policy=policy)) as index:
        index.ensure()
        index.upsert(rows, base)
        assert index.search_path() == "exact"
        memory = index.search(queries, 5)
        brute = np.argsort(-(queries @ base.T), axis=1, kind="stable")[:, :5]
        assert [[r["sha256"] for r in row] for row in memory] == [[rows[i]["sha256"] for i in b] for b in brute]
        assert memory[0][0]["title"] == f"t{brute[0, 0]}" and memory[0][0]["price"] == float(brute[0, 0])
        assert memory[0][0]["brand"] is None  # missing metadata reads back as None, as from Milvus
        index.config = replace(index.config, policy=replace(policy, path="milvus"))
        index._memory = None
        assert index.search_path() == "milvus"
        assert index.search(queries, 5) == memory  # HNSW with ef 400 over 400 rows: the same neighbours
        index.config = replace(index.config, policy=replace(policy, exact_max_rows=10))
        index._memory = None
        assert index.search_path() == "hnsw"
        graph = tmp_path / "m.db.c.hnsw-m16-efc200.faiss"
        assert graph.exists() and not index.memory_search().loaded_graph  # built, then kept beside the file
        index._memory = None
        assert index.memory_search().loaded_graph  # the next reader loads the graph instead of building it
        # A write drops the in-memory copy: the next search reads the collection again and finds the new row.
        side = sidecar_path(index)
        assert side == tmp_path / "m.db.c.memory.npz" and side.exists()
        index.upsert([{"sha256": "f" * 64}], queries[:1])
        assert not side.exists() and not graph.exists()  # a write invalidates the copies beside the file
        assert index.search_ids(queries[:1], 1) == [["f" * 64]]
        index.delete(["f" * 64])
        assert index.search_ids(queries[:1], 1) != [["f" * 64]]
    # A new process loads the copy beside the file and answers as the collection does.
    with CatalogIndex(str(tmp_path / "m.db"), "c", 16, config=IndexConfig(policy=policy)) as again:
        again.client.load_collection("c")
        assert side.exists() and again.search(queries, 5) == memory
        np.savez(side, ids=np.asarray(["x"]), vectors=base[:1], rows=1)  # a stale copy (1 row) is ignored
        again._memory = None
        assert again.search(queries, 5) == memory
