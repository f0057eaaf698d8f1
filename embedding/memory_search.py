"""The in-memory search path: the collection's vectors searched in this process, Milvus the store of record.

Milvus Lite answers a search through a local gRPC round trip, per-query Python lists and its own single index;
measured at 10k and 100k vectors it is slower than brute force (``make bench-search``). So for a catalog that
fits in memory the collection's vectors are read once (``query_iterator``) and searched here: **exact** (torch:
the matrix product of the query block with the catalog and ``topk``, all cores, on CUDA when present) up to
``FTI_EXACT_SEARCH_MAX_ROWS`` rows, an in-memory **HNSW** graph (faiss ``IndexHNSWFlat``, the library Milvus
Lite itself ships with; the collection's ``M``/``efConstruction``/``ef``) above that, and Milvus itself above
``FTI_MEMORY_SEARCH_MAX_ROWS`` or on a server (``FTI_SEARCH_PATH=auto``; ``milvus`` / ``memory`` force one).

Reading a collection back out of Milvus Lite costs ~0.2-1.2 ms a row (its query path builds Python rows: 118 s
for 100k x 1344 measured), so on Milvus Lite the copy is also kept *beside* the file:
``<file>.<collection>.memory.npz`` (ids, vectors, metadata, row count) and the HNSW graph
``<file>.<collection>.hnsw-m<M>-efc<efc>.faiss``, written atomically after a read or build and loaded in a
fraction of a second by the next process. Every write through :class:`~embedding.index.CatalogIndex` deletes
them and drops the in-process copy, so the next search reads the collection again (Milvus stays the store of
record; a Milvus Lite file has one writer process at a time, :mod:`embedding.lock`); a copy whose row count is
not the collection's is ignored. The embed stage warms them after writing (:func:`warm`).
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

PATHS = ("auto", "milvus", "memory")


@dataclass(frozen=True)
class SearchPolicy:
    """Which path answers searches: ``path`` (auto, milvus, memory) and the size thresholds."""

    path: str = "milvus"
    exact_max_rows: int = 20_000
    memory_max_rows: int = 2_000_000
    device: str = "cpu"


def choose_path(rows: int, lite: bool, policy: SearchPolicy) -> str:
    """``exact``, ``hnsw`` (both in memory) or ``milvus`` for a collection of ``rows`` vectors.

    ``auto`` keeps a server's searches on the server (it has the cores, replicas and the index already) and
    answers Milvus Lite's in memory; ``memory`` does so on a server too. Above ``memory_max_rows`` Milvus
    answers whatever the path.
    """
    if policy.path not in PATHS:
        raise ValueError(f"search path must be one of {PATHS}, not {policy.path!r}")
    if policy.path == "milvus" or (policy.path == "auto" and not lite) or rows > policy.memory_max_rows:
        return "milvus"
    return "exact" if rows <= policy.exact_max_rows else "hnsw"


class MemorySearch:
    """Top-k cosine search over unit ``vectors`` (rows of ``ids``) in this process.

    Args:
        ids: Row ids (sha256).
        vectors: ``(N, d)`` float32 vectors (normalised here).
        kind: ``exact`` or ``hnsw``.
        m: HNSW graph degree.
        ef_construction: HNSW build breadth.
        ef: HNSW search breadth (raised to k).
        meta: Per row, the metadata ``CatalogIndex.search`` returns (None: ids only).
        device: Where exact search runs: ``cpu``, ``cuda`` or ``auto`` (CUDA when present); HNSW is on the CPU.
        graph: File of the HNSW graph of exactly these rows: loaded when present (and of as many rows), else
            written after building.
    """

    def __init__(
        self, ids: list[str], vectors: np.ndarray, kind: str = "exact", m: int = 16, ef_construction: int = 200,
        ef: int = 64, meta: list[dict[str, Any]] | None = None, device: str = "cpu", graph: Path | None = None,
    ) -> None:  # fmt: skip
        import faiss

        if kind not in ("exact", "hnsw"):
            raise ValueError(f"kind must be exact or hnsw, not {kind!r}")
        self.ids = np.asarray(ids, object)
        self.vectors = np.ascontiguousarray(vectors, np.float32)
        norms = np.linalg.norm(self.vectors, axis=1, keepdims=True) if self.vectors.size else np.ones((0, 1))
        if not np.allclose(norms, 1, atol=1e-4):  # stored vectors are unit: keep them bit for bit
            self.vectors /= np.maximum(norms, 1e-12)
        if device == "auto":
            import torch

            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.kind, self.ef, self.meta, self.device = kind, ef, meta, device
        dim = self.vectors.shape[1] if self.vectors.ndim == 2 else 0
        start = time.perf_counter()
        self._torch = None
        self.loaded_graph = False
        if kind == "exact":  # torch matmul + topk: all cores even for one query (faiss scans one on one core)
            import torch

            self._torch = torch.from_numpy(self.vectors).to(device)
            self.index = None
        elif kind == "hnsw" and graph is not None and (stored := _read_graph(graph, len(self.vectors))) is not None:
            self.index, self.loaded_graph = stored, True
        else:
            self.index = faiss.IndexHNSWFlat(dim, m, faiss.METRIC_INNER_PRODUCT)
            self.index.hnsw.efConstruction = ef_construction
        if kind == "hnsw" and len(self.vectors) and self.index.ntotal == 0:
            self.index.add(self.vectors)
            if kind == "hnsw" and graph is not None:
                _write_graph(self.index, graph)
        self.build_s = time.perf_counter() - start

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Row positions ``(n, k)`` (-1 where fewer rows) and their cosine similarities, best first."""
        q = np.ascontiguousarray(queries, np.float32)
        q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
        k = max(1, min(k, len(self)))
        if len(self) == 0:
            return np.full((len(q), k), -1, np.int64), np.full((len(q), k), -np.inf, np.float32)
        if self._torch is not None:
            import torch

            with torch.inference_mode():
                sims, idx = torch.topk(torch.from_numpy(q).to(self.device) @ self._torch.T, k, dim=1)
            return idx.cpu().numpy().astype(np.int64), sims.float().cpu().numpy()
        if self.kind == "hnsw":
            self.index.hnsw.efSearch = max(self.ef, k)
        sims, idx = self.index.search(q, k)
        return idx, sims

    def search_ids(self, queries: np.ndarray, k: int) -> list[list[str]]:
        """The neighbours' ids per query."""
        idx, _ = self.search(queries, k)
        return [[self.ids[i] for i in row if i >= 0] for row in idx]

    @classmethod
    def from_index(cls, index: Any, kind: str, meta_fields: tuple[str, ...] = (), page: int = 4000) -> MemorySearch:
        """Every vector and ``meta_fields`` of a :class:`~embedding.index.CatalogIndex` collection: from the copy
        beside a Milvus Lite file when it is current, else read from the collection (and the copy written)."""
        start = time.perf_counter()
        rows = index.count()
        side = sidecar_path(index)
        loaded = _load_sidecar(side, rows, meta_fields) if side else None
        if loaded is None:
            drop_sidecar(index)  # a graph beside the file belongs to the copy it was built on
            ids, matrix, meta = _read(index, meta_fields, page)
            if side:
                _save_sidecar(side, ids, matrix, meta, meta_fields)
        else:
            ids, matrix, meta = loaded
        read_s = time.perf_counter() - start
        c = index.config
        graph = side.with_name(f"{_stem(side)}.hnsw-m{c.m}-efc{c.ef_construction}.faiss") if side else None
        out = cls(ids, matrix, kind, c.m, c.ef_construction, c.ef, meta, c.policy.device, graph)
        out.read_s = read_s
        log.info("in-memory %s search over %d vectors of %s (%s %.1f s, built %.1f s)", kind, len(ids),
                 index.collection, "read" if loaded is None else "copy beside", read_s, out.build_s)  # fmt: skip
        return out


def sidecar_path(index: Any) -> Path | None:
    """Where the in-memory copy of a Milvus Lite collection is kept (None for a server)."""
    from embedding.lock import is_lite

    if not is_lite(index.uri):
        return None
    db = Path(index.uri)
    return db.with_name(f"{db.name}.{index.collection}.memory.npz")


def drop_sidecar(index: Any) -> None:
    """Delete the copy (and HNSW graphs) beside a Milvus Lite file (after a write)."""
    side = sidecar_path(index)
    if side is not None:
        side.unlink(missing_ok=True)
        for graph in side.parent.glob(f"{_stem(side)}.hnsw-*.faiss"):
            graph.unlink(missing_ok=True)


def _stem(side: Path) -> str:
    return side.name[: -len(".memory.npz")]


def _read_graph(path: Path, rows: int) -> Any:
    """The HNSW graph stored at ``path`` when it holds ``rows`` vectors, else None."""
    import faiss

    if not path.exists():
        return None
    try:
        graph = faiss.read_index(str(path))
    except RuntimeError as exc:
        log.warning("ignoring the unreadable HNSW graph %s: %s", path, exc)
        return None
    return graph if graph.ntotal == rows else None


def _write_graph(index: Any, path: Path) -> None:
    import faiss

    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        faiss.write_index(index, str(tmp))
        os.replace(tmp, path)
    except (OSError, RuntimeError) as exc:
        log.warning("could not keep the HNSW graph beside the Milvus Lite file (%s): %s", path, exc)
        tmp.unlink(missing_ok=True)


def warm(index: Any) -> str:
    """Build the in-memory copy now when the policy searches in memory (the embed stage, after writing), so the
    match stage's first search does not read the collection; returns the path chosen."""
    return index.search_path()


def _read(index: Any, meta_fields: tuple[str, ...], page: int) -> tuple[list[str], np.ndarray, list | None]:
    ids: list[str] = []
    vectors: list[np.ndarray] = []
    meta: list[dict[str, Any]] | None = [] if meta_fields else None
    for rows in index.scan(("sha256", "vector", *meta_fields), batch=page):
        ids.extend(r["sha256"] for r in rows)
        vectors.append(np.asarray([r["vector"] for r in rows], np.float32))
        if meta is not None:
            meta.extend({f: r.get(f) for f in meta_fields} for r in rows)
    matrix = np.concatenate(vectors) if vectors else np.zeros((0, index.dim), np.float32)
    return ids, matrix, meta


def _save_sidecar(path: Path, ids: list[str], matrix: np.ndarray, meta: list | None, fields: tuple) -> None:
    columns = {f"meta_{f}": np.asarray([m[f] for m in meta] if meta else []) for f in fields}
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            np.savez(fh, ids=np.asarray(ids, "U64"), vectors=matrix, rows=len(ids), **columns)
        os.replace(tmp, path)  # atomic: a reader sees the old copy or the new one
    except OSError as exc:  # a read-only folder: the copy is an optimisation, searches still work
        log.warning("could not keep the in-memory copy beside the Milvus Lite file (%s): %s", path, exc)
        tmp.unlink(missing_ok=True)


def _load_sidecar(path: Path, rows: int, fields: tuple) -> tuple[list[str], np.ndarray, list | None] | None:
    if not path.exists():
        return None
    try:
        with np.load(path) as z:
            if int(z["rows"]) != rows or any(f"meta_{f}" not in z for f in fields):
                return None
            ids = z["ids"].tolist()
            columns = {f: z[f"meta_{f}"].tolist() for f in fields}
            matrix = z["vectors"].astype(np.float32)
    except (OSError, ValueError, KeyError) as exc:
        log.warning("ignoring the unreadable in-memory copy %s: %s", path, exc)
        return None
    meta = [{f: columns[f][i] for f in fields} for i in range(len(ids))] if fields else None
    return ids, matrix, meta
