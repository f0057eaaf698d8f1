"""The catalog index in Milvus (a Milvus Lite file by default, or a server with ``FTI_MILVUS_URI``).

Rows are keyed by the image's sha256, so re-embedding a batch upserts and never duplicates. Vectors are unit
length and searched with COSINE similarity through HNSW (``M``, ``efConstruction``; ``ef`` at search time) or
IVF_FLAT (``nlist``; ``nprobe``), as the settings say. A Milvus server stores and reports those build parameters
(``describe_index``); Milvus Lite 3.x reads build parameters only from a JSON ``params`` entry that pymilvus
never sends, so it builds with faiss' defaults (HNSW ``M=16, efConstruction=200``; IVF ``nlist=128``, clamped to
the row count) and ``describe_index`` there shows only the index type and metric. Search-time ``ef`` and
``nprobe`` reach both. :meth:`CatalogIndex.index_report` says which case applies.

Missing metadata is stored as ``""`` (text) and NaN (price), read back as ``None``: Milvus 2.3 servers have no
nullable fields. The collection's description carries the model version whose vectors it holds (a Milvus
server keeps it; Milvus Lite drops descriptions, so ``embedding.service`` also records it in the lake).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from embedding.connection import CatalogIndexError, MilvusConnection
from embedding.lock import is_lite
from embedding.memory_search import MemorySearch, SearchPolicy, choose_path, drop_sidecar

log = logging.getLogger(__name__)

# field -> (Milvus type name, max_length for VARCHAR)
META_FIELDS: dict[str, tuple[str, int]] = {
    "source": ("VARCHAR", 128),
    "product_id": ("VARCHAR", 512),
    "title": ("VARCHAR", 1024),
    "brand": ("VARCHAR", 256),
    "currency": ("VARCHAR", 8),
    "page_url": ("VARCHAR", 2048),
    "image_key": ("VARCHAR", 1024),
    "dt": ("VARCHAR", 16),
    "price": ("FLOAT", 0),
}


@dataclass(frozen=True)
class IndexConfig:
    """Vector index settings (metric is always COSINE on unit vectors)."""

    index_type: str = "HNSW"
    m: int = 16
    ef_construction: int = 200
    ef: int = 128
    nlist: int = 1024
    nprobe: int = 32
    policy: SearchPolicy = SearchPolicy()

    @classmethod
    def from_settings(cls, settings: Any) -> IndexConfig:
        """The index the settings describe."""
        return cls(
            settings.index_type.upper(), settings.hnsw_m, settings.hnsw_ef_construction, settings.hnsw_ef,
            settings.ivf_nlist, settings.ivf_nprobe,
            SearchPolicy(settings.search_path, settings.exact_search_max_rows, settings.memory_search_max_rows,
                         settings.device),
        )  # fmt: skip

    def build_params(self) -> dict[str, int]:
        """Build parameters sent with ``create_index``."""
        if self.index_type == "HNSW":
            return {"M": self.m, "efConstruction": self.ef_construction}
        if self.index_type == "IVF_FLAT":
            return {"nlist": self.nlist}
        raise CatalogIndexError(f"unsupported index type {self.index_type!r}: use HNSW or IVF_FLAT")

    def search_params(self, top_k: int) -> dict[str, Any]:
        """Search parameters (``ef`` is at least ``top_k``, as HNSW requires)."""
        params = {"ef": max(self.ef, top_k)} if self.index_type == "HNSW" else {"nprobe": self.nprobe}
        return {"metric_type": "COSINE", "params": params}


class CatalogIndex:
    """One Milvus collection (or alias) of catalog image vectors with product metadata.

    Args:
        uri: Milvus Lite file or server URI (ignored when ``connection`` is given).
        collection: Collection or alias name.
        dim: Vector width.
        token: Server token.
        config: Index settings.
        connection: Share an open connection (its owner closes it).
        meta: JSON-able facts stored as the collection's description when it is created.
    """

    def __init__(
        self,
        uri: str,
        collection: str,
        dim: int,
        token: str | None = None,
        config: IndexConfig | None = None,
        connection: MilvusConnection | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        self._owns = connection is None
        self.connection = connection or MilvusConnection(uri, token)
        self.client = self.connection.client
        self.uri, self.collection, self.dim = self.connection.uri, collection, dim
        self.config = config or IndexConfig()
        self.meta = meta or {}
        self._memory: MemorySearch | bool | None = None  # None: not decided; False: Milvus answers

    def close(self) -> None:
        """Release the client when this index opened it."""
        if self._owns:
            self.connection.close()

    def __enter__(self) -> CatalogIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def ensure(self) -> None:
        """Create the collection when missing; check its schema (and load it) when present."""
        from pymilvus import DataType, MilvusClient

        if self.client.has_collection(self.collection):
            self._check_schema()
            self.client.load_collection(self.collection)  # a new process finds it released
            return
        schema = MilvusClient.create_schema(
            auto_id=False, enable_dynamic_field=False, description=json.dumps({**self.meta, "dim": self.dim})
        )
        schema.add_field("sha256", DataType.VARCHAR, is_primary=True, max_length=64)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dim)
        for name, (kind, length) in META_FIELDS.items():
            schema.add_field(name, getattr(DataType, kind), **({"max_length": length} if kind == "VARCHAR" else {}))
        params = self.client.prepare_index_params()
        params.add_index(
            field_name="vector", index_type=self.config.index_type, metric_type="COSINE",
            params=self.config.build_params(),
        )  # fmt: skip
        self.client.create_collection(self.collection, schema=schema, index_params=params, consistency_level="Strong")
        log.info("created collection %s (dim %d, %s) at %s", self.collection, self.dim, self.config, self.uri)

    def _check_schema(self) -> None:
        desc = self.client.describe_collection(self.collection)
        fields = {f["name"]: f for f in desc["fields"]}
        vec = fields.get("vector")
        dim = (vec or {}).get("params", {}).get("dim")
        missing = sorted(set(META_FIELDS) - set(fields))
        if vec is None or int(dim or 0) != self.dim or missing:
            raise CatalogIndexError(
                f"collection {self.collection} has another schema (vector dim {dim}, expected {self.dim}; "
                f"missing fields {missing}): re-index into a new collection"
            )

    def index_report(self) -> dict[str, Any]:
        """What the server says about the vector index, and whether the configured build params reached it."""
        desc = self.client.describe_index(self.collection, "vector")
        wanted = {k: str(v) for k, v in self.config.build_params().items()}
        stored = {k: str(desc[k]) for k in wanted if k in desc}
        report = {
            "index_type": desc.get("index_type"), "metric_type": desc.get("metric_type"), "configured": wanted,
            "on_server": stored, "params_reached": stored == wanted,
        }  # fmt: skip
        if stored != wanted and is_lite(self.uri):
            report["note"] = (
                "Milvus Lite drops build params and uses faiss defaults (HNSW M=16, efConstruction=200; IVF "
                "nlist=128 clamped to the rows); search-time ef/nprobe apply"
            )
        return report

    def wait_until_built(self, timeout: float = 3600.0, poll: float = 0.5) -> None:
        """On a server: flush, then wait until every row is indexed (none pending). Nothing on Milvus Lite.

        Raises:
            CatalogIndexError: the index is not built within ``timeout`` seconds.
        """
        if is_lite(self.uri):
            return
        self.client.flush(self.collection)
        deadline = time.monotonic() + timeout
        while (d := self.client.describe_index(self.collection, "vector")).get("pending_index_rows", 0) or int(
            d.get("indexed_rows", 0)
        ) < int(d.get("total_rows", 0)):
            if time.monotonic() > deadline:
                raise CatalogIndexError(f"{self.collection}: index not built after {timeout:.0f} s ({d})")
            time.sleep(poll)

    def wait_for_index(self, timeout: float = 3600.0, poll: float = 0.5) -> None:
        """Make searches use the built index: on a server, wait until built, then reload; Milvus Lite just loads.

        A server builds the index in the background after a flush, and segments loaded before their index exists
        are searched brute force until the query node swaps them: a recall check then measures exact search, not
        the index. Milvus Lite builds on load.

        Raises:
            CatalogIndexError: the index is not built within ``timeout`` seconds.
        """
        if not is_lite(self.uri):
            self.wait_until_built(timeout, poll)
            self.client.release_collection(self.collection)
        self.client.load_collection(self.collection)

    def existing(self, shas: Sequence[str], chunk: int = 500) -> set[str]:
        """The subset of ``shas`` that already have a vector."""
        found: set[str] = set()
        for start in range(0, len(shas), chunk):
            rows = self.client.get(self.collection, ids=list(shas[start : start + chunk]), output_fields=["sha256"])
            found.update(r["sha256"] for r in rows)
        return found

    def vectors(self, shas: Sequence[str], chunk: int = 500) -> dict[str, np.ndarray]:
        """The stored vectors (float32, as stored) of those ``shas`` that have one, by sha256."""
        self.client.load_collection(self.collection)
        out: dict[str, np.ndarray] = {}
        for start in range(0, len(shas), chunk):
            rows = self.client.get(self.collection, ids=list(shas[start : start + chunk]), output_fields=["vector"])
            out.update((r["sha256"], np.asarray(r["vector"], np.float32)) for r in rows)
        return out

    def upsert(self, rows: Iterable[dict[str, Any]], vectors: np.ndarray) -> int:
        """Upsert rows (metadata dicts with ``sha256``) with their vectors; returns the count.

        Raises:
            CatalogIndexError: the vectors do not have the collection's dimension (nothing is written).
        """
        rows = list(rows)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim or len(rows) != len(vectors):
            raise CatalogIndexError(f"vectors {vectors.shape} do not fit {len(rows)} rows of dim {self.dim}")
        if not np.isfinite(vectors).all():
            raise CatalogIndexError("vectors contain NaN or infinity: nothing written")
        data = []
        for row, vec in zip(rows, vectors, strict=True):
            record = {"sha256": row["sha256"], "vector": vec.astype(np.float32).tolist()}
            for name, (kind, _) in META_FIELDS.items():
                value = row.get(name)
                missing = value is None or value != value
                if kind == "FLOAT":
                    record[name] = math.nan if missing else float(value)
                else:
                    record[name] = "" if missing else str(value)
            data.append(record)
        if data:
            self.client.upsert(self.collection, data)
            self._memory = None  # the in-memory copy is stale, and so is the one beside a Milvus Lite file
            drop_sidecar(self)
        return len(data)

    def delete(self, shas: Sequence[str], chunk: int = 500) -> int:
        """Delete rows by sha256; returns how many were asked for."""
        for start in range(0, len(shas), chunk):
            self.client.delete(self.collection, ids=list(shas[start : start + chunk]))
        self._memory = None
        drop_sidecar(self)
        return len(shas)

    def count(self) -> int:
        """Rows in the collection."""
        res = self.client.query(self.collection, filter="", output_fields=["count(*)"])
        return int(res[0]["count(*)"])

    def scan(self, fields: Sequence[str] = ("sha256",), batch: int = 1000, filter: str = "") -> Iterator[list[dict]]:
        """Every row (``fields`` of it), a page at a time."""
        it = self.client.query_iterator(self.collection, batch_size=batch, filter=filter, output_fields=list(fields))
        try:
            while page := it.next():
                yield page
        finally:
            it.close()

    def search_path(self) -> str:
        """The path that answers this collection's searches now: ``exact``, ``hnsw`` (in memory) or ``milvus``."""
        mem = self.memory_search()
        return mem.kind if mem else "milvus"

    def memory_search(self) -> MemorySearch | None:
        """The in-memory copy that answers searches (:mod:`embedding.memory_search`), read on first use; None
        when Milvus answers (a server, ``FTI_SEARCH_PATH=milvus``, or more rows than fit)."""
        if self._memory is None:
            self.client.load_collection(self.collection)
            path = choose_path(self.count(), is_lite(self.uri), self.config.policy)
            self._memory = False if path == "milvus" else MemorySearch.from_index(self, path, tuple(META_FIELDS))
        return self._memory or None

    def search(self, vectors: np.ndarray, top_k: int) -> list[list[dict[str, Any]]]:
        """Top-k neighbours per query vector: dicts with ``sha256``, ``similarity`` and the metadata.

        The index (or the in-memory path) finds the neighbours; their cosine similarity is then recomputed
        exactly (float64) from the stored vectors, so a rerun gives identical numbers whether Milvus answered
        from a growing segment (brute force), from the built index or from memory.
        """
        if len(vectors) == 0:
            return []
        mem = self.memory_search()
        if mem is not None:
            positions, _ = mem.search(vectors, top_k)
            hits = [
                [{"sha256": mem.ids[i], "entity": {**mem.meta[i], "vector": mem.vectors[i]}} for i in row if i >= 0]
                for row in positions
            ]  # fmt: skip
        else:
            self.client.load_collection(self.collection)
            hits = self.client.search(
                self.collection, data=vectors.astype(np.float32).tolist(), limit=top_k,
                output_fields=[*META_FIELDS, "vector"], search_params=self.config.search_params(top_k),
            )  # fmt: skip
        results = []
        for query, per_query in zip(vectors.astype(np.float64), hits, strict=True):
            query = query / max(np.linalg.norm(query), 1e-12)
            rows = []
            for hit in per_query:
                entity = {k: _decoded(v) for k, v in dict(hit["entity"]).items() if k != "vector"}
                stored = np.asarray(hit["entity"]["vector"], dtype=np.float64)
                similarity = float(query @ stored / max(np.linalg.norm(stored), 1e-12))
                rows.append({**entity, "sha256": hit.get("sha256", hit.get("id")), "similarity": similarity})
            results.append(sorted(rows, key=lambda r: (-round(r["similarity"], 9), r["sha256"])))
        return results

    def search_ids(self, vectors: np.ndarray, top_k: int, consistency: str | None = None) -> list[list[str]]:
        """Only the neighbours' ids (what the recall checks and benchmarks need).

        Args:
            vectors: Queries.
            top_k: Neighbours per query.
            consistency: ``Bounded`` lets a server answer without waiting for the newest writes (the collection's
                ``Strong`` level waits up to one time tick, ~200 ms, per call); None keeps Strong.
        """
        if (mem := self.memory_search()) is not None:
            return mem.search_ids(vectors, top_k)
        extra = {"consistency_level": consistency} if consistency else {}
        hits = self.client.search(
            self.collection, data=vectors.astype(np.float32).tolist(), limit=top_k, output_fields=[],
            search_params=self.config.search_params(top_k), **extra,
        )  # fmt: skip
        return [[h.get("sha256", h.get("id")) for h in per_query] for per_query in hits]


def _decoded(value: Any) -> Any:
    if value == "" or (isinstance(value, float) and math.isnan(value)):
        return None
    return value
