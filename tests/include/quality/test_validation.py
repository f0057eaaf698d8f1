"""Batch validation with a real GX checkpoint over real parquet manifests and real images in a lake."""

from __future__ import annotations

import hashlib
import io
import json

import pandas as pd
import pytest
from PIL import Image

from include.core.lake import Lake, LocalLake, S3Lake
from include.core.layout import HEALTH, MANIFEST, MANIFEST_COLUMNS, VALIDATION, batch_prefix, quarantine_prefix
from include.quality.batches import is_validated
from include.quality.validation import BatchValidationError, ValidationReport, raise_for_failure, validate_batch

DT = "2026-11-27"
MIN_SIDE = 64


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (80, 80), seed: int = 0) -> bytes:
    """A small real image whose pixels depend on ``seed`` (so every image has its own sha256)."""
    buf = io.BytesIO()
    mode = "P" if fmt == "GIF" else "RGB"
    Image.new(mode, size, (seed * 37 % 256, seed * 91 % 256, 120) if mode == "RGB" else seed % 256).save(buf, fmt)
    return buf.getvalue()


def make_row(lake: Lake, i: int, *, kind: str = "portal", source: str = "shop", fmt: str = "JPEG",
             size: tuple[int, int] = (80, 80), data: bytes | None = None) -> dict:  # fmt: skip
    """Store one image in the lake and return its manifest row."""
    payload = image_bytes(fmt, size, seed=i)
    url = f"http://demo/{source}/{i}.{fmt.lower()}"
    key = f"images/full/{hashlib.sha1(url.encode()).hexdigest()}.jpg"
    lake.write_bytes(key, payload if data is None else data(payload) if callable(data) else data)
    portal = kind == "portal"
    return {
        "sha256": hashlib.sha256(payload).hexdigest(), "source": source, "kind": kind, "horizon": None,
        "product_id": f"p{i}" if portal else None, "page_url": f"http://demo/{source}/page/{i}",
        "image_url": url, "image_key": key, "title": f"Dress {i}" if portal else None,
        "brand": "Acme" if portal else None, "price": 49.5 if portal else None,
        "currency": "EUR" if portal else None, "likes": None if portal else 10 * i,
        "posted_at": None if portal else "2026-11-26T10:00:00Z", "caption": None if portal else "ootd",
        "width": size[0], "height": size[1], "format": fmt, "bytes": len(payload),
        "crawled_at": pd.Timestamp("2026-11-27T03:00:00Z"),
    }  # fmt: skip


def write_batch(lake: Lake, rows: list[dict], *, kind: str = "portal", source: str = "shop") -> str:
    """Write a manifest (and a health file) for ``rows``; return the batch prefix."""
    prefix = batch_prefix(kind, source, DT)
    buf = io.BytesIO()
    pd.DataFrame(rows, columns=MANIFEST_COLUMNS).to_parquet(buf, index=False)
    lake.write_bytes(prefix + MANIFEST, buf.getvalue())
    lake.write_text(prefix + HEALTH, json.dumps({"items": len(rows)}))
    return prefix


def good_rows(lake: Lake, n: int = 4, *, kind: str = "portal", source: str = "shop") -> list[dict]:
    return [make_row(lake, i, kind=kind, source=source, fmt="PNG" if i % 2 else "JPEG") for i in range(n)]


@pytest.fixture
def lake(tmp_path) -> LocalLake:
    return LocalLake(tmp_path / "lake")


def test_good_batch_passes_and_writes_report(lake):
    prefix = write_batch(lake, good_rows(lake))
    social = write_batch(lake, good_rows(lake, 3, kind="social", source="gram"), kind="social", source="gram")

    report = validate_batch(lake, prefix, min_image_side=MIN_SIDE, min_rows=1)
    assert report.success, report.failed_expectations
    assert report.rows == 4 and report.failed_expectations == [] and report.quarantined_to is None
    assert report.statistics["unsuccessful_expectations"] == 0
    assert report.statistics["decode_failures"] == 0
    assert raise_for_failure(report) is report
    saved = ValidationReport.from_json(lake.read_text(prefix + VALIDATION))
    assert saved == report
    assert {r["expectation_type"] for r in saved.results} >= {
        "expect_column_values_to_be_unique", "expect_column_values_to_match_regex",
        "expect_column_values_to_be_in_set", "expect_table_row_count_to_be_between",
    }  # fmt: skip
    conditional = [r for r in saved.results if r["row_condition"]]
    assert {r["column"] for r in conditional} == {"product_id", "title"}
    assert is_validated(lake, prefix)

    # Social rows have no product_id/title: the portal-only expectations do not apply to them.
    assert validate_batch(lake, social, min_image_side=MIN_SIDE, min_rows=1).success
    assert is_validated(lake, social.rstrip("/"))


def _duplicate(lake):
    rows = good_rows(lake, 3)
    rows[2]["sha256"] = rows[0]["sha256"]
    return rows, "expect_column_values_to_be_unique(sha256)"


def _gif(lake):
    return [*good_rows(lake, 2), make_row(lake, 7, fmt="GIF")], "expect_column_values_to_be_in_set(format)"


def _small(lake):
    rows = [*good_rows(lake, 2), make_row(lake, 7, size=(32, 200))]
    return rows, "expect_column_values_to_be_between(width)"


def _truncated(lake):
    bad = make_row(lake, 7, size=(120, 120), data=lambda payload: payload[: len(payload) // 2])
    return [*good_rows(lake, 2), bad], "expect_column_values_to_be_in_set(decodes)"


def _missing_title(lake):
    rows = good_rows(lake, 3)
    rows[1]["title"] = None
    return rows, "expect_column_values_to_not_be_null(title)[kind == 'portal']"


def _missing_source(lake):
    rows = good_rows(lake, 3)
    rows[0]["source"] = None
    return rows, "expect_column_values_to_not_be_null(source)"


def _bad_hash(lake):
    rows = good_rows(lake, 2)
    rows[0]["sha256"] = rows[0]["sha256"].upper()
    return rows, "expect_column_values_to_match_regex(sha256)"


@pytest.mark.parametrize(
    ("build", "min_rows"),
    [(_duplicate, 1), (_gif, 1), (_small, 1), (_truncated, 1), (_missing_title, 1), (_missing_source, 1),
     (_bad_hash, 1), (good_rows, 10)],
    ids=["duplicate-sha256", "gif", "too-small", "truncated-jpeg", "missing-title", "missing-source",
         "bad-sha256", "too-few-rows"],
)  # fmt: skip
def test_failing_batch_is_quarantined(lake, build, min_rows):
    built = build(lake)
    rows, expected = built if isinstance(built, tuple) else (built, "expect_table_row_count_to_be_between")
    other = write_batch(lake, good_rows(lake, 2, source="other"), source="other")
    other_before = {k: lake.read_bytes(k) for k in lake.list(other)}
    images_before = lake.list("images/")
    prefix = write_batch(lake, rows)

    report = validate_batch(lake, prefix, min_image_side=MIN_SIDE, min_rows=min_rows)

    assert not report.success
    assert report.failed_expectations == [expected]
    target = quarantine_prefix("portal", "shop", DT)
    assert report.quarantined_to == target
    assert lake.list(prefix) == []
    assert not is_validated(lake, prefix)
    assert lake.list(target) == [target + HEALTH, target + MANIFEST, target + VALIDATION]
    saved = json.loads(lake.read_text(target + VALIDATION))
    assert saved["success"] is False and saved["quarantined_to"] == target
    assert saved["failed_expectations"] == [expected]
    assert {k: lake.read_bytes(k) for k in lake.list(other)} == other_before
    assert lake.list("images/") == images_before  # shared images are never moved

    with pytest.raises(BatchValidationError, match="expect_") as info:
        raise_for_failure(report)
    assert prefix in str(info.value) and expected in str(info.value)
    assert info.value.report is report


def test_no_quarantine_keeps_failed_batch_in_place(lake):
    rows, expected = _duplicate(lake)
    prefix = write_batch(lake, rows)
    report = validate_batch(lake, prefix, min_image_side=MIN_SIDE, min_rows=1, quarantine=False)
    assert not report.success and report.quarantined_to is None
    assert report.failed_expectations == [expected]
    assert lake.exists(prefix + MANIFEST) and lake.list("quarantine/") == []
    assert not is_validated(lake, prefix)


def test_missing_column_fails_with_the_gx_error(lake):
    prefix = write_batch(lake, good_rows(lake, 2))
    manifest = pd.read_parquet(io.BytesIO(lake.read_bytes(prefix + MANIFEST))).drop(columns=["image_url"])
    lake.write_bytes(prefix + MANIFEST, manifest.to_parquet(index=False))
    report = validate_batch(lake, prefix, min_image_side=MIN_SIDE, min_rows=1, quarantine=False)
    assert report.failed_expectations == [
        "expect_column_values_to_not_be_null(image_url)",
        "expect_table_columns_to_match_set",
    ]
    (failed,) = [r for r in report.results if r["column"] == "image_url"]
    assert "image_url" in failed["exceptions"][0]


def test_missing_manifest_raises(lake):
    prefix = batch_prefix("portal", "shop", DT)
    lake.write_text(prefix + HEALTH, "{}")
    with pytest.raises(BatchValidationError, match=r"batches/kind=portal/source=shop/dt=2026-11-27/.*manifest"):
        validate_batch(lake, prefix, min_image_side=MIN_SIDE, min_rows=1)
    assert not is_validated(lake, prefix)


def test_validate_on_s3(s3_server, s3_bucket):
    lake = S3Lake(s3_bucket, "fti", endpoint_url=s3_server)
    good = write_batch(lake, good_rows(lake, 3, source="good"), source="good")
    rows, expected = _truncated(lake)
    bad = write_batch(lake, rows, source="bad")

    assert validate_batch(lake, good, min_image_side=MIN_SIDE, min_rows=1).success
    assert is_validated(lake, good)

    report = validate_batch(lake, bad, min_image_side=MIN_SIDE, min_rows=1)
    assert report.failed_expectations == [expected]
    target = quarantine_prefix("portal", "bad", DT)
    assert report.quarantined_to == target
    assert lake.list(bad) == []
    assert lake.list(target) == [target + HEALTH, target + MANIFEST, target + VALIDATION]
    assert lake.list(good) == [good + HEALTH, good + MANIFEST, good + VALIDATION]
