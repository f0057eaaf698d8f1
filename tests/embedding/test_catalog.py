"""The embed stage on a real lake and a real Milvus Lite file: incremental, tombstones, bad images."""

from __future__ import annotations

import json

import pytest

from embedding.catalog import embed_catalog, live_catalog
from embedding.index import CatalogIndex
from include.core.layout import catalog_state_key
from tests.embedding.conftest import write_batch


def indexed(settings) -> set[str]:
    with CatalogIndex(settings.resolved_milvus_uri(), settings.collection, 0) as index:
        index.client.load_collection(settings.collection)  # a reopened file starts released
        return {r["sha256"] for page in index.scan() for r in page}


def test_incremental_embedding_tombstones_and_undecodable_images(lake, small_settings):
    day1 = write_batch(lake, "shop", "2026-11-01", [0, 1, 2, 3, 4, 5])
    first = embed_catalog("2026-11-01", lake, small_settings)
    assert first["embedded"] == 6 and first["vectors"] == 6 and first["tombstoned"] == 0
    assert first["collection"] == "catalog_imagenet_test_efficientnet"
    assert first["model_version"] == "imagenet-test_efficientnet"
    rerun = embed_catalog("2026-11-01", lake, small_settings)
    assert (rerun["embedded"], rerun["already"], rerun["vectors"]) == (0, 6, 6)  # nothing embedded twice
    state = json.loads(lake.read_text(catalog_state_key("2026-11-01")))  # what the ranking's readiness reads
    assert state["sources"] == ["shop"] and state["vectors"] == 6

    # Day 2: products 4 and 5 are gone, 6 is new, one image does not decode (a counted skip).
    day2 = write_batch(lake, "shop", "2026-11-02", [0, 1, 2, 3, 6, b"<html>not an image</html>"])
    second = embed_catalog("2026-11-02", lake, small_settings)
    assert (second["embedded"], second["skipped"], second["tombstoned"]) == (1, 1, 0)  # gone 1 crawl < 2
    assert indexed(small_settings) == set(day1) | {day2[4]}

    # Day 3: 4 and 5 are now absent from the last 2 crawls: tombstoned. Another portal is untouched.
    write_batch(lake, "shop", "2026-11-03", [0, 1, 2, 3, 6])
    other = write_batch(lake, "mall", "2026-11-03", [7, 8])
    third = embed_catalog("2026-11-03", lake, small_settings)
    assert (third["embedded"], third["tombstoned"], third["vectors"]) == (2, 2, 7)
    assert indexed(small_settings) == set(day1[:4]) | {day2[4]} | set(other)

    # A product that comes back is embedded again.
    write_batch(lake, "shop", "2026-11-04", [0, 1, 2, 3, 6, 5])
    assert embed_catalog("2026-11-04", lake, small_settings)["embedded"] == 1
    assert day1[5] in indexed(small_settings)


def test_unvalidated_crawls_do_not_count_as_crawls(lake, small_settings):
    shas = write_batch(lake, "shop", "2026-11-01", [0, 1])
    write_batch(lake, "shop", "2026-11-02", [2], validated=False)
    write_batch(lake, "shop", "2026-11-03", [3], validated=False)
    live = live_catalog(lake, "2026-11-03", small_settings.tombstone_after_crawls)
    assert set(live["sha256"]) == set(shas)  # a broken crawl never empties the catalog


def test_decoding_workers_read_the_lake_themselves(lake, small_settings, monkeypatch):
    from include.core.settings import get_settings

    monkeypatch.setenv("FTI_EMBED_WORKERS", "2")
    get_settings.cache_clear()
    shas = write_batch(lake, "shop", "2026-11-01", [*range(9), b"\xff\xd8 truncated"])
    result = embed_catalog("2026-11-01", lake, get_settings())
    assert (result["embedded"], result["skipped"]) == (9, 1)
    assert indexed(get_settings()) == set(shas[:9])


def test_a_legacy_collection_named_like_the_alias_is_a_clear_error(lake, small_settings):
    from embedding.index import CatalogIndexError

    with CatalogIndex(small_settings.resolved_milvus_uri(), "catalog", 8) as index:
        index.ensure()
    write_batch(lake, "shop", "2026-11-01", [0])
    with pytest.raises(CatalogIndexError, match="predates versioned collections"):
        embed_catalog("2026-11-01", lake, small_settings)


def test_writer_sizes_insert_batches_by_bytes_and_stores_every_row_once(tmp_path):
    import numpy as np

    from embedding.catalog import RPC_BYTES, BackgroundWriter, row_bytes

    rows = [{"sha256": f"{i:064x}", "title": "t" * (i % 7)} for i in range(50)]
    vectors = np.random.default_rng(0).standard_normal((50, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    with CatalogIndex(str(tmp_path / "w.db"), "w", 16) as index:
        index.ensure()
        sizes: list[int] = []
        real = index.upsert
        index.upsert = lambda r, v: sizes.append(sum(row_bytes(x, 16) for x in r)) or real(r, v)  # a spy
        cap = 10 * row_bytes(rows[0], 16)
        with BackgroundWriter(index, max_bytes=cap) as writer:
            for start in range(0, 50, 3):  # small batches from the model, coalesced up to the cap
                writer.upsert(rows[start : start + 3], vectors[start : start + 3])
        assert writer.written == 50 == index.count() and writer.calls == len(sizes) < 17
        assert max(sizes) <= cap and sum(sizes) == sum(row_bytes(r, 16) for r in rows)
        assert BackgroundWriter(index).max_bytes == 0  # Milvus Lite: each batch at once (its cost is per row)
    assert RPC_BYTES < 64 * 1024**2  # a server's batches stay under the gRPC message cap
