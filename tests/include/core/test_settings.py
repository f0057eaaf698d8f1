"""Settings that refuse a configuration which cannot work at scale."""

from __future__ import annotations

import pytest

from include.core.settings import MilvusUriRequired, Settings


def test_an_s3_lake_needs_a_milvus_server_uri(tmp_path):
    from embedding.service import connect

    s3 = Settings(lake="s3://fti-lake/fti")
    with pytest.raises(MilvusUriRequired, match="FTI_MILVUS_URI is required with an S3 lake"):
        s3.resolved_milvus_uri()
    with pytest.raises(MilvusUriRequired, match="one index per worker"):
        connect(s3)  # every stage that opens the index says so before touching anything
    assert Settings(lake="s3://fti-lake/fti", milvus_uri="http://milvus:19530").resolved_milvus_uri().startswith("http")
    local = Settings(lake=str(tmp_path / "lake")).resolved_milvus_uri()
    assert local == str(tmp_path / "lake" / "index" / "milvus.db")


def test_status_reports_the_missing_uri_instead_of_failing(tmp_path):
    from include.core.lake import LocalLake
    from include.ops.status import alias_target

    out = alias_target(LocalLake(tmp_path), Settings(lake="s3://fti-lake/fti"))
    assert out["uri"] is None and "FTI_MILVUS_URI" in out["error"]


def test_a_reindex_on_a_server_leaves_the_one_slot_pool():
    from include.ops.airflow_support import MILVUS_POOL, reindex_pool

    assert reindex_pool(Settings(milvus_uri="http://milvus:19530")) == "default_pool"
    assert reindex_pool(Settings(lake="/tmp/lake")) == MILVUS_POOL  # Milvus Lite: one process per file
    assert reindex_pool(Settings(lake="s3://b/fti")) == MILVUS_POOL  # refused when it runs, not at parse time
