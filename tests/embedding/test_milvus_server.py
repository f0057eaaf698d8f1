"""The same code against a real Milvus standalone (PyPI ``milvus``, ``milvus-server`` on 127.0.0.1:19530)."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from embedding.index import CatalogIndex, CatalogIndexError, IndexConfig
from tests.embedding.conftest import write_batch

pytestmark = pytest.mark.slow


SEGMENT_MB = 1024  # Milvus 2.4+'s default segment size; the bundled 2.3.5 server's own default is 512


@pytest.fixture(scope="session")
def milvus_server_process(tmp_path_factory):
    """One server for the session; stopped (SIGTERM, then SIGKILL after a grace period) with nothing left."""
    from embedding.milvus_server import MilvusServer, MilvusServerUnavailable, _group_alive

    server = MilvusServer(
        tmp_path_factory.mktemp("milvus-server"), grace=2, config={"dataCoord.segment.maxSize": SEGMENT_MB}
    )
    try:
        server.start()
    except MilvusServerUnavailable as exc:
        pytest.skip(f"no Milvus server here: {exc}")
    pgid = server.proc.pid
    yield server
    server.stop()
    assert not _group_alive(pgid), "milvus-server left a process behind"


@pytest.fixture(scope="session")
def milvus_server(milvus_server_process):
    return milvus_server_process.uri


def test_server_config_reaches_the_servers_milvus_yaml(milvus_server_process):
    import yaml

    written = yaml.safe_load((milvus_server_process.data_dir / "configs" / "milvus.yaml").read_text())
    assert written["dataCoord"]["segment"]["maxSize"] == SEGMENT_MB
    assert written["dataCoord"]["segment"]["sealProportion"] == 0.23  # untouched keys keep the package's value


def unit(n, dim, seed=0):
    v = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_index_settings_reach_the_server_and_search_upsert_work(milvus_server):
    name = f"t_{uuid.uuid4().hex[:8]}"
    for config in (IndexConfig("HNSW", m=8, ef_construction=64, ef=32), IndexConfig("IVF_FLAT", nlist=16, nprobe=16)):
        with CatalogIndex(milvus_server, f"{name}_{config.index_type}", 16, config=config) as index:
            index.ensure()
            report = index.index_report()
            assert report["params_reached"] and report["metric_type"] == "COSINE", report
            vectors = unit(300, 16)
            rows = [{"sha256": f"{i:064x}", "title": f"item {i}", "price": None} for i in range(300)]
            index.upsert(rows, vectors)
            index.upsert(rows[:10], vectors[:10])  # same keys: replaced
            assert index.count() == 300
            index.delete([rows[-1]["sha256"]])
            assert index.count() == 299  # deletes are seen at once (Strong consistency)
            hits = index.search(vectors[:5], top_k=3)
            assert [h[0]["sha256"] for h in hits] == [f"{i:064x}" for i in range(5)]
            assert hits[0][0]["title"] == "item 0" and hits[0][0]["price"] is None and hits[0][0]["brand"] is None
            with pytest.raises(CatalogIndexError, match="do not fit"):
                index.upsert(rows[:2], unit(2, 8))
    with CatalogIndex(milvus_server, f"{name}_HNSW", 32) as index, pytest.raises(CatalogIndexError, match="schema"):
        index.ensure()


def test_embed_reindex_alias_swap_and_rollback_on_the_server(milvus_server, lake, small_settings, monkeypatch):
    from embedding import reindex
    from embedding.catalog import embed_catalog
    from include.core.settings import get_settings
    from tests.embedding.test_reindex import promote_new_model

    alias = f"cat{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("FTI_MILVUS_URI", milvus_server)
    monkeypatch.setenv("FTI_COLLECTION", alias)
    get_settings.cache_clear()
    settings = get_settings()
    write_batch(lake, "shop", "2026-11-01", [0, 1, 2, 3])
    first = embed_catalog("2026-11-01", lake, settings)
    assert (first["collection"], first["vectors"]) == (f"{alias}_imagenet_test_efficientnet", 4)
    write_batch(lake, "shop", "2026-11-02", [0, 1, 2])
    write_batch(lake, "shop", "2026-11-03", [0, 1, 2])  # product 3 gone for 2 crawls: left out of the re-index

    version = promote_new_model(lake, dim=16)
    result = reindex.reindex_catalog(lake=lake, settings=settings)
    assert result["previous"] == first["collection"] and result["rows"] == 3 and result["recall"] >= 0.99
    assert result["index"]["params_reached"], result["index"]
    status = reindex.status(lake, settings)
    assert status["in_service"] == result["collection"]
    assert status["collections"][result["collection"]] == {"model_version": version, "rows": 3}
    back = reindex.rollback(lake, settings)
    assert back["to"] == first["collection"]
    assert reindex.status(lake, settings)["in_service"] == first["collection"]


def test_a_server_that_never_answers_is_restarted_then_reported(tmp_path, monkeypatch):
    """A real process that never opens the port (like a server whose etcd lost its first election): started
    ``attempts`` times, each stopped with its whole process group, then a clear error."""
    import embedding.milvus_server as ms

    starts = tmp_path / "starts"
    fake = tmp_path / "milvus-server"
    fake.write_text(f"#!/bin/sh\necho start >> {starts}\nexec sleep 60\n")
    fake.chmod(0o755)
    monkeypatch.setattr(ms, "executable", lambda: str(fake))
    server = ms.MilvusServer(tmp_path / "data", port=ms.free_port(), start_timeout=1.5, grace=0.5, attempts=2)
    with pytest.raises(ms.MilvusServerUnavailable, match="not answering after 2 s"):
        server.start()
    assert starts.read_text().split() == ["start", "start"]
    assert server.proc is None  # each attempt was stopped and reaped


def test_bench_embed_stores_into_the_server_and_drops_its_collections(milvus_server):
    from pymilvus import MilvusClient

    from benchmarks.embed import PREFIX, parse_args, run
    from tests.benchmarks.test_embed import TINY

    with CatalogIndex(milvus_server, f"{PREFIX}full", 16) as stale:  # left by a run that stopped half way
        stale.ensure()
        stale.upsert([{"sha256": f"{i:064x}"} for i in range(5)], unit(5, 16))
    out = run(parse_args([*TINY, "--uri", milvus_server]))
    assert out["store"] == milvus_server and out["stored"] == 12
    assert all(rate > 0 for rate in out["stages"].values()), out["stages"]
    client = MilvusClient(uri=milvus_server)
    try:
        assert not [name for name in client.list_collections() if name.startswith(PREFIX)]
    finally:
        client.close()
