"""The nightly pipeline end to end: real Airflow (``airflow dags test``), real Scrapy crawls of the demo web on
127.0.0.1, Great Expectations, the timm encoder, a Milvus Lite file, and publishing to a local lake and to a
moto S3 server."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys

import boto3
import pandas as pd
import pytest

from include.demo.server import DemoWeb
from include.demo.world import build_world
from include.ops.airflow_cli import airflow_env
from include.ops.demo import precision_at, run_pipeline

pytestmark = pytest.mark.slow
DT = "2026-11-01"


@pytest.fixture(scope="module")
def world():
    return build_world(seed=11, n_products=160, n_posts=110)


@pytest.fixture(scope="module")
def web(world):
    with DemoWeb(world, port=0) as server:
        yield server


def env_for(tmp, web, **extra):
    return airflow_env(
        tmp / "airflow",
        {"FTI_LAKE": str(tmp / "lake"), "FTI_DEMO_WEB_URL": web.url, "FTI_RETRY_DELAY_SECONDS": "0", **extra},
    )


def digest(path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(path.iterdir())}


def count_vectors(milvus_file) -> int:
    """Row count, read in a child process (Milvus Lite keeps a file locked until its process exits)."""
    code = (
        f"from pymilvus import MilvusClient; c = MilvusClient({str(milvus_file)!r}); c.load_collection('catalog'); "
        "print(c.query('catalog', filter='', output_fields=['count(*)'])[0]['count(*)'])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    return int(out.stdout.strip().splitlines()[-1])


def test_dags_publish_planted_trends_and_reruns_are_idempotent(tmp_path_factory, web, world):
    tmp = tmp_path_factory.mktemp("e2e")
    env = env_for(tmp, web)
    print(run_pipeline(DT, env, log=print))

    lake = tmp / "lake"
    latest = json.loads((lake / "reports/latest.json").read_text())
    run_dir = lake / latest["prefix"]
    table = pd.read_parquet(run_dir / "winning_designs.parquet")
    assert precision_at(table, world.truth()["planted"]) >= 0.8
    html = (run_dir / "report.html").read_text()
    assert html.count("data:image/jpeg;base64,") >= 20
    upcoming = {p["sku"] for p in world.truth()["planted"] if p["horizon"] == "upcoming"}
    scored = table.set_index("product_id")
    for sku in upcoming & set(scored.index):
        assert scored.loc[sku, "upcoming_score"] > scored.loc[sku, "current_score"]

    health = json.loads(next((lake / "batches/kind=portal").glob("source=demo_boutique/dt=*/health.json")).read_text())
    assert health["items"] > 0 and health["images_stored"] == health["items"]
    catalog_rows = sum(
        len(pd.read_parquet(p)) for p in (lake / "batches/kind=portal").glob(f"source=*/dt={DT}/manifest.parquet")
    )
    before = digest(run_dir)

    print(run_pipeline(DT, env, log=print))  # the same date again
    latest_again = json.loads((lake / "reports/latest.json").read_text())
    assert latest_again["run_id"] == latest["run_id"]
    assert digest(run_dir) == before  # byte-identical tables and report
    assert len(list((lake / f"reports/dt={DT}").iterdir())) == 1
    assert count_vectors(lake / "index/milvus.db") == catalog_rows  # upserted by sha256, no duplicates


def test_the_same_pipeline_publishes_to_s3(tmp_path_factory, web, world, s3_server, s3_bucket):
    """Credentials and endpoint come from the Airflow connection ``aws_default`` alone."""
    tmp = tmp_path_factory.mktemp("e2e_s3")
    connection = {"conn_type": "aws", "login": "testing", "password": "testing",
                  "extra": {"endpoint_url": s3_server, "region_name": "us-east-1"}}  # fmt: skip
    env = env_for(
        tmp, web, FTI_LAKE=f"s3://{s3_bucket}/fti", FTI_MILVUS_URI=str(tmp / "milvus.db"),
        AIRFLOW_CONN_AWS_DEFAULT=json.dumps(connection),
    )  # fmt: skip
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL"):
        env.pop(key, None)
    print(run_pipeline(DT, env, log=print))

    s3 = boto3.client("s3", endpoint_url=s3_server)  # an analyst reading the report
    latest = json.loads(s3.get_object(Bucket=s3_bucket, Key="fti/reports/latest.json")["Body"].read())
    body = s3.get_object(Bucket=s3_bucket, Key="fti/" + latest["table"])["Body"].read()
    table = pd.read_parquet(io.BytesIO(body))
    assert precision_at(table, world.truth()["planted"]) >= 0.8
    images = s3.list_objects_v2(Bucket=s3_bucket, Prefix="fti/images/full/")["KeyCount"]
    assert images >= len(world.products) // 2  # Scrapy's ImagesPipeline stored into the S3 lake


def test_a_batch_failing_validation_fails_its_dag_and_is_never_embedded(tmp_path_factory, web):
    tmp = tmp_path_factory.mktemp("e2e_bad")
    env = env_for(tmp, web, FTI_MIN_BATCH_ROWS="100000")  # no demo batch is that large
    from include.ops.airflow_cli import airflow

    airflow(["db", "migrate"], env)
    cmd = [sys.executable, "-m", "include.ops.run_dags", DT, "crawl_demo_boutique"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1
    assert json.loads(proc.stdout.strip().splitlines()[-1])["state"] == "failed"
    assert "expect_table_row_count_to_be_between" in proc.stdout + proc.stderr  # visible in the task log
    lake = tmp / "lake"
    quarantined = lake / f"quarantine/kind=portal/source=demo_boutique/dt={DT}"
    assert (quarantined / "manifest.parquet").exists() and json.loads((quarantined / "validation.json").read_text())
    assert not (lake / f"batches/kind=portal/source=demo_boutique/dt={DT}/manifest.parquet").exists()

    proc = subprocess.run([*cmd[:-1], "embed_catalog"], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert count_vectors(lake / "index/milvus.db") == 0
