"""A consumer reading the latest report from S3 with plain boto3 and pandas, as README "Reading the reports" shows."""

from __future__ import annotations

import hashlib
import io
import json

import boto3
import pandas as pd

from include.core.lake import S3Lake
from include.reports.publishing import publish_report
from include.reports.schema import SCHEMA_VERSION, TABLE_COLUMNS, THEME_COLUMNS
from tests.include.reports.test_publishing import INPUTS, table_for


def test_consumer_reads_latest_report_with_boto3(s3_server, s3_bucket):
    lake = S3Lake(s3_bucket, "fti", endpoint_url=s3_server)
    table = table_for(lake).assign(colours=["red,white", "navy"], momentum=["rising", "new"])
    themes = pd.DataFrame([{"theme": "T01", "name": "red tee", "posts": 2, "designs": 1, "score": 50.0,
                            "current_score": 50.0, "upcoming_score": 0.0, "previous_score": None, "growth": None,
                            "momentum": "new", "design_ids": '["a"]', "exemplars": "[]", "dt": "2026-11-01",
                            "run_id": "r"}], columns=THEME_COLUMNS)  # fmt: skip
    publish_report(lake, table, "2026-11-01", INPUTS, themes=themes)

    # --- the consumer: nothing from this project, only boto3 and pandas ---
    s3 = boto3.client("s3", endpoint_url=s3_server)

    def get(key):
        return s3.get_object(Bucket=s3_bucket, Key="fti/" + key)["Body"].read()

    latest = json.loads(get("reports/latest.json"))
    designs = pd.read_parquet(io.BytesIO(get(latest["table"])))
    found = pd.read_parquet(io.BytesIO(get(latest["themes"])))
    manifest = json.loads(get(latest["manifest"]))
    for name, meta in manifest["files"].items():  # every file as it was published
        assert hashlib.sha256(get(latest["prefix"] + name)).hexdigest() == meta["sha256"]
    assert latest["schema_version"] == manifest["schema_version"] == SCHEMA_VERSION
    assert list(designs.columns) == TABLE_COLUMNS and len(designs) == manifest["rows"]["winning_designs"]
    rising_red = designs[(designs.momentum == "rising") & designs.colours.str.contains("red")]
    assert list(rising_red.design_id) == ["a"]
    offers = list(designs.loc[0, "offers"])  # a list of structs: no JSON to parse
    assert offers[0]["url"] == "https://shop/a" and offers[0]["currency"] == "GBP"
    assert found.loc[0, "name"] == "red tee"
    csv = pd.read_csv(io.BytesIO(get(latest["csv"])))
    records = json.loads(get(latest["json"]))
    assert list(csv.design_id) == list(designs.design_id) == [r["design_id"] for r in records]
    as_text = json.loads(csv.loc[0, "offers"])  # JSON text in the CSV and JSON files
    assert as_text == json.loads(records[0]["offers"]) and [o["url"] for o in as_text] == [o["url"] for o in offers]
    assert b"<html" in get(latest["report"])
