"""Store faults: S3 answering 500/503/SlowDown for a while (boto3's standard retry mode rides it out), an S3 outage
longer than the retries (the previous version stays), corrupt pointers and manifests. After each: a rerun, no row
lost, nothing half-written visible, and the rerun's tables byte-identical to a clean run's."""

from __future__ import annotations

import io
import json

import boto3
import pandas as pd
import pytest
from botocore.config import Config

from include.core.lake import LocalLake, S3Lake
from include.core.layout import LATEST, MANIFEST, batch_prefix, history_key
from include.core.replace import replace_prefix
from include.reports.publishing import PublishError, publish_report, read_latest
from tests.faults.s3_proxy import FaultyS3Proxy
from tests.include.reports.test_publishing import INPUTS, history_for, table_for

P = batch_prefix("portal", "s3_shop", "2026-11-01")
OLD = {"manifest.parquet": b"old rows", "health.json": b'{"items": 1}'}
NEW = {"manifest.parquet": b"new rows", "health.json": b'{"items": 2}', "skips.jsonl": b""}


def contents(lake, prefix: str) -> dict[str, bytes]:
    return {k[len(prefix) :]: lake.read_bytes(k) for k in lake.list(prefix)}


def report_files(lake, result) -> dict[str, bytes]:
    return contents(lake, result["prefix"])


@pytest.fixture
def proxied(s3_server, s3_bucket):
    """(lake through the faulting proxy, the same lake direct, the proxy, a clean lake on another prefix)."""
    with FaultyS3Proxy(s3_server) as proxy:
        yield (S3Lake(s3_bucket, "fti", endpoint_url=proxy.url), S3Lake(s3_bucket, "fti", endpoint_url=s3_server),
               proxy, S3Lake(s3_bucket, "clean", endpoint_url=s3_server))  # fmt: skip


def test_s3_errors_for_a_while_are_retried_and_the_result_equals_a_clean_run(proxied):
    lake, direct, proxy, clean = proxied
    replace_prefix(direct, P, OLD, last=MANIFEST)
    table = table_for(direct)
    proxy.fail_next = 2  # 503 SlowDown, 500 InternalError, then faithful: boto3 standard mode retries both
    replace_prefix(lake, P, NEW, last=MANIFEST)
    proxy.fail_next = 2
    result = publish_report(lake, table, "2026-11-01", INPUTS, history=history_for(table), report_html="<html/>")
    assert proxy.faults == 4
    replace_prefix(clean, P, NEW, last=MANIFEST)
    clean_result = publish_report(clean, table, "2026-11-01", INPUTS, history=history_for(table),
                                  report_html="<html/>")  # fmt: skip
    assert contents(direct, P) == contents(clean, P) == NEW
    assert report_files(direct, result) == report_files(clean, clean_result)
    assert direct.read_bytes(history_key("2026-11-01")) == clean.read_bytes(history_key("2026-11-01"))
    assert read_latest(direct)["run_id"] == result["run_id"] and direct.list("staging/") == []


def test_an_s3_outage_longer_than_the_retries_keeps_the_previous_batch_and_report(proxied, s3_bucket):
    lake, direct, proxy, clean = proxied
    replace_prefix(direct, P, OLD, last=MANIFEST)
    table = table_for(direct, "2026-10-31")
    good = publish_report(direct, table, "2026-10-31", INPUTS, report_html="<html/>")
    quick = boto3.client("s3", endpoint_url=proxy.url, config=Config(retries={"mode": "standard", "max_attempts": 2}))
    down_lake = S3Lake(s3_bucket, "fti", client=quick)
    proxy.down = True
    with pytest.raises(Exception, match="ServiceUnavailable|SlowDown|InternalError|reached max retries"):
        replace_prefix(down_lake, P, NEW, last=MANIFEST)
    with pytest.raises(PublishError):
        publish_report(down_lake, table_for(clean), "2026-11-01", INPUTS, report_html="<html/>")
    proxy.down = False
    assert contents(direct, P) == OLD  # the previous batch, intact and readable
    assert read_latest(direct)["run_id"] == good["run_id"]  # readers still see the last good report
    replace_prefix(lake, P, NEW, last=MANIFEST)  # the rerun
    replace_prefix(clean, P, NEW, last=MANIFEST)
    assert contents(direct, P) == contents(clean, P) == NEW


def test_a_corrupt_latest_pointer_is_replaced_by_the_rerun(tmp_path):
    lake, clean = LocalLake(tmp_path / "lake"), LocalLake(tmp_path / "clean")
    table = table_for(lake)
    publish_report(lake, table, "2026-11-01", INPUTS, history=history_for(table), report_html="<html/>")
    lake.write_bytes(LATEST, b'{"dt": "2026-11-01", "run_id": ')  # torn by hand: readers get None, not garbage
    assert read_latest(lake) is None
    rerun = publish_report(lake, table, "2026-11-01", INPUTS, history=history_for(table), report_html="<html/>")
    first = publish_report(clean, table_for(clean), "2026-11-01", INPUTS, history=history_for(table),
                           report_html="<html/>")  # fmt: skip
    assert read_latest(lake)["run_id"] == rerun["run_id"] == first["run_id"]
    assert report_files(lake, rerun) == report_files(clean, first)


def test_a_corrupt_history_partition_is_rewritten_by_the_rerun(tmp_path):
    lake, clean = LocalLake(tmp_path / "lake"), LocalLake(tmp_path / "clean")
    table = table_for(lake)
    publish_report(lake, table, "2026-11-01", INPUTS, history=history_for(table), report_html="<html/>")
    lake.write_bytes(history_key("2026-11-01"), b"PAR1 torn")
    publish_report(lake, table, "2026-11-01", INPUTS, history=history_for(table), report_html="<html/>")
    publish_report(clean, table_for(clean), "2026-11-01", INPUTS, history=history_for(table), report_html="<html/>")
    assert lake.read_bytes(history_key("2026-11-01")) == clean.read_bytes(history_key("2026-11-01"))
    history = pd.read_parquet(io.BytesIO(lake.read_bytes(history_key("2026-11-01"))))
    assert len(history) == len(table)  # no row lost


def test_a_corrupt_batch_manifest_fails_validation_and_the_rerun_restores_it(shop, lake_path):
    from crawlers.crawl import crawl_source
    from include.ops.stages import validate_source
    from include.quality.validation import BatchValidationError

    prefix = batch_prefix("portal", "fault_shop", "2026-11-01")
    crawl_source("fault_shop", "2026-11-01")
    assert validate_source("fault_shop", "2026-11-01")["rows"] == 6
    good = pd.read_parquet(lake_path / prefix / MANIFEST).drop(columns=["crawled_at"])
    path = lake_path / prefix / MANIFEST
    path.write_bytes(path.read_bytes()[:200])  # a torn manifest
    with pytest.raises(BatchValidationError, match="unreadable manifest"):
        validate_source("fault_shop", "2026-11-01")
    crawl_source("fault_shop", "2026-11-01")  # the rerun of the date
    assert validate_source("fault_shop", "2026-11-01")["rows"] == 6
    again = pd.read_parquet(lake_path / prefix / MANIFEST).drop(columns=["crawled_at"])
    assert again.to_parquet() == good.to_parquet()  # 0 validated rows lost, same table
    assert json.loads((lake_path / prefix / "validation.json").read_text())["success"] is True


PUBLISH = """
import sys
from include.core.lake import LocalLake
from include.reports.publishing import publish_report
from tests.include.reports.test_publishing import INPUTS, history_for, table_for
lake = LocalLake(sys.argv[1])
table = table_for(lake, "2026-11-02")
html = "<html>" + "x" * 30_000_000 + "</html>"  # big enough to be killed while it is written
publish_report(lake, table, "2026-11-02", INPUTS, history=history_for(table), report_html=html)
"""


def test_publish_killed_half_way_never_shows_a_half_report_and_the_rerun_equals_a_clean_run(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    from include.reports.publishing import verify
    from tests.faults.shop import ROOT

    lake, clean = LocalLake(tmp_path / "lake"), LocalLake(tmp_path / "clean")
    table = table_for(lake)
    good = publish_report(lake, table, "2026-11-01", INPUTS, history=history_for(table), report_html="<html/>")
    child = subprocess.Popen([sys.executable, "-c", PUBLISH, str(tmp_path / "lake")], cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    deadline = time.monotonic() + 60
    while not (tmp_path / "lake/reports/dt=2026-11-02").exists() and child.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.002)
    os.kill(child.pid, signal.SIGKILL)  # half-way: files of the run written, latest.json not switched yet
    child.wait()
    latest = read_latest(lake)
    assert latest["run_id"] == good["run_id"]  # readers still see the last complete report
    verify(lake, latest["prefix"], json.loads(lake.read_text(latest["manifest"])))  # and all of it verifies
    html = "<html>" + "x" * 30_000_000 + "</html>"
    table2 = table_for(lake, "2026-11-02")
    rerun = publish_report(lake, table2, "2026-11-02", INPUTS, history=history_for(table2), report_html=html)
    first = publish_report(clean, table_for(clean, "2026-11-02"), "2026-11-02", INPUTS, history=history_for(table2),
                           report_html=html)  # fmt: skip
    assert rerun["run_id"] == first["run_id"] == read_latest(lake)["run_id"]
    assert report_files(lake, rerun) == report_files(clean, first)
    assert lake.read_bytes(history_key("2026-11-02")) == clean.read_bytes(history_key("2026-11-02"))
