"""``fti status`` and the freshness check on a real local lake (and a real file lock held by another process)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from include.core.lake import LocalLake
from include.core.settings import get_settings
from include.ops.status import StaleReportError, alias_target, check_freshness, lake_status, last_batches, render

NOW = datetime(2026, 11, 3, 8, 0, tzinfo=UTC)


def _batch(lake, area, kind, source, dt, success=True, rows=12, items=14):
    prefix = f"{area}/kind={kind}/source={source}/dt={dt}/"
    lake.write_bytes(prefix + "manifest.parquet", b"PAR1")
    lake.write_text(prefix + "validation.json", json.dumps({"success": success, "rows": rows}))
    lake.write_text(prefix + "health.json", json.dumps({"items": items, "images_stored": items}))


def _publish(lake, dt, published_at):
    prefix = f"reports/dt={dt}/run-abc/"
    lake.write_text(prefix + "report.html", "<html></html>")
    pointer = {"dt": dt, "run_id": "run-abc", "prefix": prefix, "report": prefix + "report.html",
               "published_at": published_at.isoformat()}  # fmt: skip
    lake.write_text("reports/latest.json", json.dumps(pointer))


@pytest.fixture
def lake(tmp_path):
    return LocalLake(tmp_path / "lake")


def test_last_batch_per_source_prefers_the_newest_date_and_shows_quarantine(lake):
    _batch(lake, "batches", "portal", "shop_a", "2026-11-01")
    _batch(lake, "batches", "portal", "shop_a", "2026-11-02", rows=30, items=31)
    _batch(lake, "quarantine", "portal", "shop_b", "2026-11-02", success=False, rows=0)
    _batch(lake, "batches", "portal", "shop_b", "2026-11-01")
    _batch(lake, "batches", "social", "insta", "2026-11-02", success=False, rows=3)
    by_source = {b["source"]: b for b in last_batches(lake)}
    assert by_source["shop_a"] == {"source": "shop_a", "kind": "portal", "dt": "2026-11-02", "rows": 30,
                                   "items": 31, "state": "validated"}  # fmt: skip
    assert by_source["shop_b"]["dt"] == "2026-11-02" and by_source["shop_b"]["state"] == "quarantined"
    assert by_source["insta"]["state"] == "failed" and by_source["insta"]["kind"] == "social"


def test_freshness_counts_from_published_at(lake):
    with pytest.raises(StaleReportError, match="no report was ever published"):
        check_freshness(lake, 30, NOW)
    _publish(lake, "2026-11-02", NOW - timedelta(hours=5))
    state = check_freshness(lake, 30, NOW)
    assert state["fresh"] is True and state["age_hours"] == 5.0 and state["dt"] == "2026-11-02"
    with pytest.raises(StaleReportError, match=r"published 5\.0 h ago, more than 4 h"):
        check_freshness(lake, 4, NOW)


def test_status_renders_champion_alias_history_and_report(lake, monkeypatch):
    monkeypatch.setenv("FTI_LAKE", str(lake.root))
    get_settings.cache_clear()
    settings = get_settings()
    _batch(lake, "batches", "portal", "shop_a", "2026-11-02")
    _publish(lake, "2026-11-02", NOW - timedelta(hours=40))
    history = [{"collection": "catalog_imagenet_tf_efficientnet_lite0", "model_version": "imagenet-x"},
               {"collection": "catalog_v20261102", "model_version": "v20261102"}]  # fmt: skip
    lake.write_text("index/catalog-versions.json", json.dumps(history))
    card = {"version": "v20261102", "model_name": "tf_efficientnet_lite0", "embedding_dim": 1280}
    lake.write_text("models/champion.json", json.dumps(card))

    status = lake_status(lake, settings, live=True, now=NOW)
    assert status["champion"]["version"] == "v20261102" and status["model_in_service"] == "v20261102"
    assert status["alias"]["recorded"] == "catalog_v20261102" and status["alias"]["live"] == "no index yet"
    assert status["latest_report"]["fresh"] is False  # 40 h > the default 30 h
    text = render(status)
    assert "shop_a" in text and "validated" in text and "champion model: v20261102" in text
    assert "alias catalog: recorded -> catalog_v20261102" in text and "STALE (> 30 h)" in text


def test_no_champion_means_the_pretrained_backbone_serves(lake, monkeypatch):
    monkeypatch.setenv("FTI_LAKE", str(lake.root))
    get_settings.cache_clear()
    status = lake_status(lake, get_settings(), live=False)
    assert status["champion"] is None and status["model_in_service"] == "imagenet-tf_efficientnet_lite0"
    assert status["batches"] == [] and status["latest_report"]["dt"] is None
    assert "champion model: none" in render(status) and "latest report: none" in render(status)


def test_live_alias_read_gives_up_quickly_while_a_task_holds_the_milvus_lite_file(lake, tmp_path, monkeypatch):
    db = tmp_path / "index" / "milvus.db"
    db.parent.mkdir(parents=True)
    db.write_bytes(b"")
    monkeypatch.setenv("FTI_LAKE", str(lake.root))
    monkeypatch.setenv("FTI_MILVUS_URI", str(db))
    get_settings.cache_clear()
    holder = subprocess.Popen(  # another process holding the file's writer lock, as a running embed task does
        [sys.executable, "-c", "import sys, time; from embedding import lock; lock.acquire(sys.argv[1]); "
         "print('held', flush=True); time.sleep(60)", str(db)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        start = time.monotonic()
        out = alias_target(lake, get_settings(), live=True, lock_timeout=1.0)
        assert out["live"].startswith("busy")
        assert time.monotonic() - start < 10
    finally:
        holder.kill()
        holder.wait()


def test_fti_status_cli_prints_json(lake, monkeypatch, capsys):
    from include.ops.cli import main

    monkeypatch.setenv("FTI_LAKE", str(lake.root))
    get_settings.cache_clear()
    _batch(lake, "batches", "social", "insta", "2026-11-02")
    main(["status", "--json", "--no-milvus"])
    out = json.loads(capsys.readouterr().out)
    assert out["batches"][0]["source"] == "insta" and out["alias"]["live"] is None
