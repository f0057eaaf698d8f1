from __future__ import annotations

import numpy as np
import pytest

from embedding.index import CatalogIndex, CatalogIndexError, IndexConfig, MilvusConnection


def unit(n, dim, seed=0):
    v = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def rows(n, offset=0):
    return [{"sha256": f"{i + offset:064x}", "title": f"item {i + offset}", "price": 9.5, "source": "s"}
            for i in range(n)]  # fmt: skip


def test_upsert_is_idempotent_and_search_finds_itself(tmp_path):
    vectors = unit(50, 16)
    with CatalogIndex(str(tmp_path / "m.db"), "catalog", 16) as index:
        index.ensure()
        assert index.upsert(rows(50), vectors) == 50
        index.upsert(rows(50), vectors)  # same keys: replaced, not duplicated
        assert index.count() == 50
        hits = index.search(vectors[:3], top_k=4)
        assert [h[0]["sha256"] for h in hits] == [f"{i:064x}" for i in range(3)]
        assert hits[0][0]["similarity"] == pytest.approx(1.0, abs=1e-5)
        assert hits[0][0]["title"] == "item 0" and hits[0][0]["price"] == pytest.approx(9.5)
        assert index.existing([f"{1:064x}", "f" * 64]) == {f"{1:064x}"}


def test_wrong_dimension_and_other_schema_are_clear_errors(tmp_path):
    uri = str(tmp_path / "m.db")
    with CatalogIndex(uri, "catalog", 16) as index:
        index.ensure()
        with pytest.raises(CatalogIndexError, match="do not fit"):
            index.upsert(rows(2), unit(2, 8))
        assert index.count() == 0
    with CatalogIndex(uri, "catalog", 32) as index, pytest.raises(CatalogIndexError, match="another schema"):
        index.ensure()


def test_collection_reopened_by_a_new_process_is_searchable(tmp_path):
    """Each Airflow task is its own process: the next one must find the collection loaded and whole."""
    import subprocess
    import sys

    uri = str(tmp_path / "m.db")
    setup = "import numpy as np; from embedding.index import CatalogIndex; "
    write = (
        f"ix = CatalogIndex({uri!r}, 'catalog', 16); ix.ensure(); "
        "v = np.eye(16, dtype=np.float32)[:5]; ix.upsert([{'sha256': '%064x' % i} for i in range(5)], v)"
    )
    read = (
        f"ix = CatalogIndex({uri!r}, 'catalog', 16); ix.ensure(); "
        "hit = ix.search(np.eye(16, dtype=np.float32)[2:3], 1)[0][0]; "
        "print(ix.count(), len(ix.existing(['%064x' % 1])), hit['sha256'][-1])"
    )
    for code in (write, read):
        out = subprocess.run([sys.executable, "-c", setup + code], capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-3:] == ["5", "1", "2"]


def test_nan_vectors_are_refused_before_anything_is_written(tmp_path):
    with CatalogIndex(str(tmp_path / "m.db"), "catalog", 4) as index:
        index.ensure()
        bad = unit(3, 4)
        bad[1, 2] = np.nan
        with pytest.raises(CatalogIndexError, match="NaN"):
            index.upsert(rows(3), bad)
        assert index.count() == 0


def test_milvus_lite_keeps_index_type_and_metric_but_drops_build_params(tmp_path):
    """Documented behaviour of Milvus Lite 3.x (the server test checks that a real server keeps them)."""
    for config in (IndexConfig("HNSW", m=8, ef_construction=40), IndexConfig("IVF_FLAT", nlist=4, nprobe=2)):
        with CatalogIndex(str(tmp_path / "m.db"), f"c_{config.index_type}", 8, config=config) as index:
            index.ensure()
            report = index.index_report()
            assert (report["index_type"], report["metric_type"]) == (config.index_type, "COSINE")
            assert report["on_server"] == {} and report["params_reached"] is False
    with pytest.raises(CatalogIndexError, match="unsupported index type"):
        IndexConfig("DISKANN").build_params()


def test_an_unreachable_server_is_a_clear_error_fast():
    import time

    from tests.conftest import free_port

    started = time.monotonic()
    with pytest.raises(CatalogIndexError, match="cannot reach Milvus at http://127.0.0.1"):
        MilvusConnection(f"http://127.0.0.1:{free_port()}", timeout=2)
    assert time.monotonic() - started < 15
