"""Re-indexing after a promotion, end to end on a real Milvus Lite file with a real registered model."""

from __future__ import annotations

import pytest

from embedding import reindex
from embedding.catalog import embed_catalog
from embedding.index import CatalogIndex, CatalogIndexError, IndexConfig
from embedding.matching import match_social
from tests.embedding.conftest import TEST_MODEL, write_batch

OLD = "catalog_imagenet_test_efficientnet"


def promote_new_model(lake, dim: int = 32) -> str:
    """Train nothing: register an EmbeddingNet (tiny backbone + seeded projection) and promote it."""
    import torch

    from training.model import EmbeddingNet
    from training.registry import promote, register

    torch.manual_seed(0)
    net = EmbeddingNet(TEST_MODEL, dim, pretrained=False)
    card = register(lake, net, image_size=160, config={}, metrics={"recall@1": 0.9}, data_fingerprint="test")
    promote(lake, card["version"])
    return card["version"]


def test_readers_keep_the_old_collection_until_the_alias_moves_then_rollback(lake, small_settings, monkeypatch):
    write_batch(lake, "shop", "2026-11-01", list(range(8)))
    write_batch(lake, "insta", "2026-11-01", [2, 5], kind="social")
    embed_catalog("2026-11-01", lake, small_settings)
    before = match_social("2026-11-01", lake, small_settings)
    assert (before["collection"], before["model_version"]) == (OLD, "imagenet-test_efficientnet")

    version = promote_new_model(lake)
    seen_during_build = []
    real_move = reindex.move_alias

    def move_after_reading(conn, *args, **kwargs):  # a reader runs just before the alias moves
        seen_during_build.append(match_social("2026-11-01", lake, small_settings))
        return real_move(conn, *args, **kwargs)

    monkeypatch.setattr(reindex, "move_alias", move_after_reading)
    result = reindex.reindex_catalog(lake=lake, settings=small_settings)
    new = f"catalog_{version.replace('-', '_')}"
    assert result["collection"] == new and result["previous"] == OLD
    assert result["rows"] == 8 and result["recall"] >= 0.99
    assert result["index"]["index_type"] == "HNSW" and result["index"]["metric_type"] == "COSINE"
    during = seen_during_build[0]
    assert (during["collection"], during["model_version"]) == (OLD, "imagenet-test_efficientnet")

    after = match_social("2026-11-01", lake, small_settings)
    assert (after["collection"], after["model_version"]) == (new, version)
    # The nightly run now writes to the new collection with the new model (32 + 64 colour bins).
    write_batch(lake, "shop", "2026-11-02", [*range(8), 9])
    nightly = embed_catalog("2026-11-02", lake, small_settings)
    assert (nightly["collection"], nightly["embedded"], nightly["vectors"]) == (new, 1, 9)
    assert reindex.reindex_catalog(lake=lake, settings=small_settings)["status"] == "in service"

    status = reindex.status(lake, small_settings)
    assert status["in_service"] == new and set(status["collections"]) == {OLD, new}
    assert status["collections"][new] == {"model_version": version, "rows": 9}
    back = reindex.rollback(lake, small_settings)
    assert (back["from"], back["to"]) == (new, OLD)
    assert match_social("2026-11-01", lake, small_settings)["collection"] == OLD
    with pytest.raises(CatalogIndexError, match="no previous version"):
        reindex.rollback(lake, small_settings)


def test_a_failed_check_leaves_the_alias_where_it_was(lake, small_settings, monkeypatch):
    write_batch(lake, "shop", "2026-11-01", list(range(4)))
    embed_catalog("2026-11-01", lake, small_settings)
    promote_new_model(lake, dim=16)
    monkeypatch.setattr(reindex, "recall_at_k", lambda index, sample: {"recall": 0.5, "queries": 4, "k": 10})
    with pytest.raises(reindex.ReindexCheckFailed, match="alias left on " + OLD):
        reindex.reindex_catalog(lake=lake, settings=small_settings)
    assert reindex.status(lake, small_settings)["in_service"] == OLD


def test_recall_check_against_exact_search_tells_a_good_index_from_a_bad_one(tmp_path):
    import numpy as np

    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(3000, 24)).astype(np.float32)
    rows = [{"sha256": f"{i:064x}"} for i in range(len(vectors))]
    uri = str(tmp_path / "m.db")
    for config, good in ((IndexConfig("HNSW", ef=64), True), (IndexConfig("IVF_FLAT", nprobe=1), False)):
        with CatalogIndex(uri, f"c_{config.index_type}", 24, config=config) as index:
            index.ensure()
            index.upsert(rows, vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
            index.client.flush(index.collection)
            index.client.release_collection(index.collection)
            index.client.load_collection(index.collection)  # Milvus Lite builds the sealed segment's index on load
            result = reindex.recall_at_k(index, sample=50)
            assert result["queries"] == 50 and (result["recall"] >= 0.99) is good, (config, result)
