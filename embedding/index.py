"""The catalog index in Milvus (Milvus Lite file by default, or a server with ``FTI_MILVUS_URI``).

Rows are keyed by the image's sha256, so re-embedding a batch upserts and never duplicates. The index is
HNSW with COSINE similarity on unit vectors. Milvus Lite accepts but ignores HNSW build parameters (M,
efConstruction): ``describe_index`` there shows only the index type and metric.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

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


class CatalogIndexError(RuntimeError):
    """The index cannot be used (schema mismatch, wrong dimension, server unreachable)."""


class CatalogIndex:
    """One Milvus collection of catalog image vectors with product metadata."""

    def __init__(self, uri: str, collection: str, dim: int, token: str | None = None) -> None:
        from pymilvus import MilvusClient

        if "://" not in uri:
            from pathlib import Path

            Path(uri).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.client = MilvusClient(uri=uri, token=token or "")
        except Exception as exc:
            raise CatalogIndexError(f"cannot open Milvus at {uri}: {exc}") from exc
        self.uri, self.collection, self.dim = uri, collection, dim

    def close(self) -> None:
        """Release the client (Milvus Lite keeps its file lock until the process exits)."""
        self.client.close()

    def __enter__(self) -> CatalogIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def ensure(self, ef_construction: int = 200, m: int = 16) -> None:
        """Create the collection when missing; check its schema when present."""
        from pymilvus import DataType, MilvusClient

        if self.client.has_collection(self.collection):
            self._check_schema()
            self.client.load_collection(self.collection)  # a new process finds it released
            return
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("sha256", DataType.VARCHAR, is_primary=True, max_length=64)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dim)
        for name, (kind, length) in META_FIELDS.items():
            extra = {"max_length": length} if kind == "VARCHAR" else {}
            schema.add_field(name, getattr(DataType, kind), nullable=True, **extra)
        params = self.client.prepare_index_params()
        params.add_index(
            field_name="vector", index_type="HNSW", metric_type="COSINE",
            params={"M": m, "efConstruction": ef_construction},
        )  # fmt: skip
        self.client.create_collection(self.collection, schema=schema, index_params=params)
        log.info("created collection %s (dim %d) at %s", self.collection, self.dim, self.uri)

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

    def existing(self, shas: Sequence[str], chunk: int = 500) -> set[str]:
        """The subset of ``shas`` that already have a vector."""
        found: set[str] = set()
        for start in range(0, len(shas), chunk):
            rows = self.client.get(self.collection, ids=list(shas[start : start + chunk]), output_fields=["sha256"])
            found.update(r["sha256"] for r in rows)
        return found

    def upsert(self, rows: Iterable[dict[str, Any]], vectors: np.ndarray) -> int:
        """Upsert rows (metadata dicts with ``sha256``) with their vectors; returns the count."""
        rows = list(rows)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim or len(rows) != len(vectors):
            raise CatalogIndexError(f"vectors {vectors.shape} do not fit {len(rows)} rows of dim {self.dim}")
        data = []
        for row, vec in zip(rows, vectors, strict=True):
            record = {"sha256": row["sha256"], "vector": vec.astype(np.float32).tolist()}
            for name, (kind, _) in META_FIELDS.items():
                value = row.get(name)
                record[name] = None if value is None or value != value else (
                    float(value) if kind == "FLOAT" else str(value)
                )  # fmt: skip
            data.append(record)
        if data:
            self.client.upsert(self.collection, data)
        return len(data)

    def count(self) -> int:
        """Rows in the collection."""
        res = self.client.query(self.collection, filter="", output_fields=["count(*)"])
        return int(res[0]["count(*)"])

    def search(self, vectors: np.ndarray, top_k: int, ef: int = 128) -> list[list[dict[str, Any]]]:
        """Top-k neighbours per query vector: dicts with ``sha256``, ``similarity`` and the metadata.

        The index finds the neighbours; their cosine similarity is then recomputed exactly (float64) from the
        stored vectors, so a rerun gives identical numbers whether Milvus answered from a growing segment
        (brute force) or from the built HNSW graph.
        """
        if len(vectors) == 0:
            return []
        self.client.load_collection(self.collection)
        hits = self.client.search(
            self.collection, data=vectors.astype(np.float32).tolist(), limit=top_k,
            output_fields=[*META_FIELDS, "vector"], search_params={"metric_type": "COSINE", "params": {"ef": ef}},
        )  # fmt: skip
        results = []
        for query, per_query in zip(vectors.astype(np.float64), hits, strict=True):
            query = query / max(np.linalg.norm(query), 1e-12)
            rows = []
            for hit in per_query:
                entity = dict(hit["entity"])
                stored = np.asarray(entity.pop("vector"), dtype=np.float64)
                similarity = float(query @ stored / max(np.linalg.norm(stored), 1e-12))
                rows.append({"sha256": hit["sha256"], "similarity": similarity, **entity})
            results.append(sorted(rows, key=lambda r: (-round(r["similarity"], 9), r["sha256"])))
        return results
