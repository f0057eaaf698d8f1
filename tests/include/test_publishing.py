from __future__ import annotations

import hashlib
import io
import json

import boto3
import pandas as pd
import pytest

from include.lake import LocalLake, S3Lake
from include.layout import LATEST
from include.publishing import PublishError, publish_report
from tests.conftest import jpeg_bytes
from tests.include.test_ranking import match


def table_for(lake, dt="2026-11-01"):
    from include.ranking import rank_designs

    for key in ("images/full/p1.jpg", "images/full/p2.jpg", "images/full/a.jpg", "images/full/b.jpg"):
        lake.write_bytes(key, jpeg_bytes())
    rows = [match("p1", "a", 0.9), match("p2", "a", 0.8), match("p2", "b", 0.79, 1)]
    return rank_designs(pd.DataFrame(rows), dt, 0.5, 0.02)


INPUTS = {"batches": ["b1"], "model": "m", "params": {"top_k": 5}}


def test_publish_writes_verifies_and_switches_latest(tmp_path):
    lake = LocalLake(tmp_path)
    table = table_for(lake)
    result = publish_report(lake, table, "2026-11-01", INPUTS)
    prefix = result["prefix"]
    assert prefix.startswith("reports/dt=2026-11-01/run-")
    names = sorted(k.rsplit("/", 1)[1] for k in lake.list(prefix))
    assert names == ["manifest.json", "report.html", "winning_designs.csv", "winning_designs.parquet"]
    manifest = json.loads(lake.read_text(prefix + "manifest.json"))
    for name, meta in manifest["files"].items():
        assert hashlib.sha256(lake.read_bytes(prefix + name)).hexdigest() == meta["sha256"]
    assert manifest["rows"] == len(table) == 2 and manifest["inputs"] == INPUTS
    latest = json.loads(lake.read_text(LATEST))
    assert latest["run_id"] == result["run_id"] and latest["table"] == prefix + "winning_designs.parquet"
    html = lake.read_text(prefix + "report.html")
    assert "data:image/jpeg;base64," in html and "T a" in html


def test_rerun_is_byte_identical(tmp_path):
    lake = LocalLake(tmp_path)
    first = publish_report(lake, table_for(lake), "2026-11-01", INPUTS)
    before = {k: lake.read_bytes(k) for k in lake.list(first["prefix"])}
    second = publish_report(lake, table_for(lake), "2026-11-01", INPUTS)
    assert second["prefix"] == first["prefix"]
    assert {k: lake.read_bytes(k) for k in lake.list(second["prefix"])} == before
    assert len(lake.list("reports/dt=2026-11-01/")) == 4


def test_backfill_of_an_older_date_does_not_move_latest(tmp_path):
    lake = LocalLake(tmp_path)
    publish_report(lake, table_for(lake, "2026-11-05"), "2026-11-05", INPUTS)
    older = publish_report(lake, table_for(lake, "2026-11-02"), "2026-11-02", INPUTS)
    assert not older["latest_moved"]
    assert json.loads(lake.read_text(LATEST))["dt"] == "2026-11-05"


class FailingLake(LocalLake):
    def write_bytes(self, key, data):
        if key.endswith("report.html"):
            raise OSError("disk full")
        return super().write_bytes(key, data)


def test_failed_write_keeps_latest_on_last_good_report(tmp_path):
    good = publish_report(LocalLake(tmp_path), table_for(LocalLake(tmp_path)), "2026-11-01", INPUTS)
    lake = FailingLake(tmp_path)
    with pytest.raises(PublishError, match="latest.json unchanged"):
        publish_report(lake, table_for(lake, "2026-11-02"), "2026-11-02", INPUTS)
    assert json.loads(lake.read_text(LATEST))["run_id"] == good["run_id"]


def test_corrupt_latest_is_replaced(tmp_path):
    lake = LocalLake(tmp_path)
    lake.write_text(LATEST, "{not json")
    result = publish_report(lake, table_for(lake), "2026-11-01", INPUTS)
    assert json.loads(lake.read_text(LATEST))["run_id"] == result["run_id"]


def test_publish_to_s3_and_read_back_as_a_consumer(s3_server, s3_bucket):
    lake = S3Lake(s3_bucket, "fti", endpoint_url=s3_server)
    table = table_for(lake)
    publish_report(lake, table, "2026-11-01", INPUTS)
    # The consumer: plain boto3, following the pointer.
    s3 = boto3.client("s3", endpoint_url=s3_server)
    latest = json.loads(s3.get_object(Bucket=s3_bucket, Key="fti/reports/latest.json")["Body"].read())
    body = s3.get_object(Bucket=s3_bucket, Key="fti/" + latest["table"])["Body"].read()
    read = pd.read_parquet(io.BytesIO(body))
    pd.testing.assert_frame_equal(read, table)
