from __future__ import annotations

import hashlib
import io
import json

import boto3
import pandas as pd
import pytest

from include.core.lake import LocalLake, S3Lake
from include.core.layout import LATEST, history_key
from include.reports.publishing import PublishError, _read_pointer, _write_pointer, publish_report, switch_latest
from tests.conftest import jpeg_bytes
from tests.include.trends.test_ranking import match

FILES = ["manifest.json", "report.html", "themes.parquet", "winning_designs.csv", "winning_designs.json",
         "winning_designs.parquet"]  # fmt: skip


def table_for(lake, dt="2026-11-01"):
    from include.trends.ranking import rank_designs

    for key in ("images/full/p1.jpg", "images/full/p2.jpg", "images/full/a.jpg", "images/full/b.jpg"):
        lake.write_bytes(key, jpeg_bytes())
    rows = [match("p1", "a", 0.9), match("p2", "a", 0.8), match("p2", "b", 0.79, 1)]
    return rank_designs(pd.DataFrame(rows), dt, 0.5, 0.02)


def history_for(table):
    return table[["dt", "design_id", "score", "current_score", "upcoming_score", "support_posts", "theme"]].assign(
        run_id=""
    )


INPUTS = {"batches": ["b1"], "model": "m", "params": {"top_k": 5}}


def test_publish_writes_verifies_and_switches_latest(tmp_path):
    lake = LocalLake(tmp_path)
    table = table_for(lake)
    result = publish_report(lake, table, "2026-11-01", INPUTS, history=history_for(table))
    prefix = result["prefix"]
    assert prefix.startswith("reports/dt=2026-11-01/run-")
    assert sorted(k.rsplit("/", 1)[1] for k in lake.list(prefix)) == FILES
    manifest = json.loads(lake.read_text(prefix + "manifest.json"))
    for name, meta in manifest["files"].items():
        assert hashlib.sha256(lake.read_bytes(prefix + name)).hexdigest() == meta["sha256"]
    assert manifest["rows"] == {"winning_designs": 2, "themes": 0} and manifest["inputs"] == INPUTS
    assert manifest["schema_version"] == 3
    latest = json.loads(lake.read_text(LATEST))
    assert latest["run_id"] == result["run_id"] and latest["table"] == prefix + "winning_designs.parquet"
    assert len(json.loads(lake.read_text(latest["json"]))) == 2
    html = lake.read_text(prefix + "report.html")
    assert "data:image/jpeg;base64," in html and "T a" in html
    history = pd.read_parquet(io.BytesIO(lake.read_bytes(history_key("2026-11-01"))))
    assert set(history.run_id) == {result["run_id"]} and len(history) == 2


def test_rerun_is_byte_identical(tmp_path):
    lake = LocalLake(tmp_path)
    first = publish_report(lake, table_for(lake), "2026-11-01", INPUTS)
    before = {k: lake.read_bytes(k) for k in lake.list(first["prefix"])}
    second = publish_report(lake, table_for(lake), "2026-11-01", INPUTS)
    assert second["prefix"] == first["prefix"]
    assert {k: lake.read_bytes(k) for k in lake.list(second["prefix"])} == before
    assert len(lake.list("reports/dt=2026-11-01/")) == len(FILES)


def test_backfill_of_an_older_date_does_not_move_latest(tmp_path):
    lake = LocalLake(tmp_path)
    publish_report(lake, table_for(lake, "2026-11-05"), "2026-11-05", INPUTS)
    older = publish_report(lake, table_for(lake, "2026-11-02"), "2026-11-02", INPUTS)
    assert not older["latest_moved"]
    assert json.loads(lake.read_text(LATEST))["dt"] == "2026-11-05"


class FailingLake(LocalLake):
    def write_bytes(self, key, data):
        if key.endswith("winning_designs.json"):
            raise OSError("disk full")
        return super().write_bytes(key, data)


def test_failed_write_keeps_latest_and_leaves_nothing_partial(tmp_path):
    good_lake = LocalLake(tmp_path)
    table = table_for(good_lake)
    good = publish_report(good_lake, table, "2026-11-01", INPUTS, history=history_for(table))
    lake = FailingLake(tmp_path)
    with pytest.raises(PublishError, match="latest.json unchanged"):
        publish_report(lake, table_for(lake, "2026-11-02"), "2026-11-02", INPUTS, history=history_for(table))
    assert json.loads(lake.read_text(LATEST))["run_id"] == good["run_id"]
    assert lake.list("reports/dt=2026-11-02/") == [] and not lake.exists(history_key("2026-11-02"))
    # a failed rerun of the published date keeps its report and its history partition
    old_history = lake.read_bytes(history_key("2026-11-01"))
    with pytest.raises(PublishError):
        publish_report(lake, table, "2026-11-01", INPUTS, history=history_for(table).assign(score=0.0))
    assert len(lake.list(good["prefix"])) == len(FILES) and lake.read_bytes(history_key("2026-11-01")) == old_history


def test_corrupt_latest_is_replaced(tmp_path):
    lake = LocalLake(tmp_path)
    lake.write_text(LATEST, "{not json")
    result = publish_report(lake, table_for(lake), "2026-11-01", INPUTS)
    assert json.loads(lake.read_text(LATEST))["run_id"] == result["run_id"]


def test_pointer_switch_is_conditional_locally(tmp_path):
    lake = LocalLake(tmp_path)
    assert _write_pointer(lake, b'{"dt": "2026-11-01"}', None)
    data, token = _read_pointer(lake)
    assert not _write_pointer(lake, b'{"dt": "x"}', None)  # it exists now: a writer that saw none loses
    assert _write_pointer(lake, b'{"dt": "2026-11-02"}', token)
    assert not _write_pointer(lake, b'{"dt": "2026-11-03"}', token)  # stale token loses
    assert json.loads(lake.read_text(LATEST))["dt"] == "2026-11-02"


def test_two_s3_runs_cannot_both_win(s3_server, s3_bucket):
    """moto 5.2.5 honours If-Match / If-None-Match on PutObject: a writer holding a stale ETag is refused."""
    lake = S3Lake(s3_bucket, "fti", endpoint_url=s3_server)
    assert _write_pointer(lake, b'{"dt": "2026-11-01", "run_id": "a"}', None)
    _, etag = _read_pointer(lake)
    assert not _write_pointer(lake, b'{"dt": "2026-11-01", "run_id": "b"}', None)
    assert _write_pointer(lake, b'{"dt": "2026-11-02", "run_id": "c"}', etag)  # run c wins the race
    assert not _write_pointer(lake, b'{"dt": "2026-11-03", "run_id": "d"}', etag)  # run d read before c wrote
    # d, deciding again through switch_latest, re-reads and moves the pointer on top of c
    assert switch_latest(lake, {"dt": "2026-11-03", "run_id": "d", "prefix": "p/"})
    assert not switch_latest(lake, {"dt": "2026-11-02", "run_id": "e", "prefix": "q/"})  # older: never back
    assert json.loads(lake.read_text(LATEST))["run_id"] == "d"


class HalfwayS3Lake(S3Lake):
    """Fails on the third write of a run, like a connection dropping halfway through the upload."""

    writes = 0

    def write_bytes(self, key, data):
        if key.startswith("reports/dt=2026-11-02/"):
            HalfwayS3Lake.writes += 1
            if HalfwayS3Lake.writes == 3:
                raise ConnectionError("connection reset by peer")
        return super().write_bytes(key, data)


def test_s3_write_failing_halfway_publishes_nothing(s3_server, s3_bucket):
    lake = S3Lake(s3_bucket, "fti", endpoint_url=s3_server)
    good = publish_report(lake, table_for(lake), "2026-11-01", INPUTS)
    failing = HalfwayS3Lake(s3_bucket, "fti", endpoint_url=s3_server)
    with pytest.raises(PublishError, match="connection reset"):
        publish_report(failing, table_for(lake, "2026-11-02"), "2026-11-02", INPUTS)
    s3 = boto3.client("s3", endpoint_url=s3_server)
    latest = json.loads(s3.get_object(Bucket=s3_bucket, Key="fti/reports/latest.json")["Body"].read())
    assert latest["run_id"] == good["run_id"]
    assert s3.list_objects_v2(Bucket=s3_bucket, Prefix="fti/reports/dt=2026-11-02/")["KeyCount"] == 0


def test_forecasts_and_extra_history_are_published_listed_and_undone(tmp_path):
    from include.core.layout import theme_registry_key

    lake = LocalLake(tmp_path)
    table = table_for(lake)
    forecasts = pd.DataFrame({"series_id": ["colour:red"] * 2, "week": ["2026-11-02", "2026-11-09"],
                              "actual": [0.2, None], "forecast": [None, 0.3]})  # fmt: skip
    registry = pd.DataFrame({"theme": ["T01"], "members": [["a"]]})
    extra = {theme_registry_key("2026-11-01"): registry}
    result = publish_report(lake, table, "2026-11-01", INPUTS, history=history_for(table), forecasts=forecasts,
                            extra_history=extra)  # fmt: skip
    prefix = result["prefix"]
    manifest = json.loads(lake.read_text(prefix + "manifest.json"))
    data = lake.read_bytes(prefix + "forecasts.parquet")
    assert manifest["files"]["forecasts.parquet"] == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    assert manifest["rows"]["forecasts"] == 2 and len(pd.read_parquet(io.BytesIO(data))) == 2
    assert json.loads(lake.read_text(LATEST))["forecasts"] == prefix + "forecasts.parquet"
    stored = pd.read_parquet(io.BytesIO(lake.read_bytes(theme_registry_key("2026-11-01"))))
    assert stored["members"].tolist()[0].tolist() == ["a"] and set(stored.run_id) == {result["run_id"]}

    class Failing(LocalLake):  # the pointer switch fails: the registry partition is removed again
        def write_bytes(self, key, data):
            if key == LATEST:
                raise OSError("disk full")
            return super().write_bytes(key, data)

    other = Failing(tmp_path / "other")
    with pytest.raises(PublishError):
        publish_report(other, table_for(other), "2026-11-01", INPUTS, forecasts=forecasts, extra_history=extra)
    assert not other.exists(theme_registry_key("2026-11-01")) and not other.list("reports/")
