"""Write-new-then-switch: the new version is staged, verified and switched; a failure leaves the old one intact."""

from __future__ import annotations

import pytest

from include.core.lake import LocalLake, S3Lake
from include.core.replace import replace_prefix, staging_prefix

P = "batches/kind=portal/source=s/dt=2026-11-01/"


def replaces(lake) -> None:
    lake.write_bytes(P + "manifest.parquet", b"old rows")
    lake.write_bytes(P + "validation.json", b'{"success": true}')
    lake.write_bytes(staging_prefix(P) + "dead-attempt/manifest.parquet", b"half")
    replace_prefix(lake, P, {"manifest.parquet": b"new rows", "health.json": b"{}"}, last="manifest.parquet")
    assert lake.list(P) == [P + "health.json", P + "manifest.parquet"]  # the old validation.json went with it
    assert lake.read_bytes(P + "manifest.parquet") == b"new rows"
    assert lake.list("staging/") == []  # the dead attempt's leftovers and this attempt's staging are gone
    replace_prefix(lake, "batches/kind=portal/source=s/dt=2026-11-02/", {"m": b"first"}, last="m")
    assert lake.read_bytes("batches/kind=portal/source=s/dt=2026-11-02/m") == b"first"


def test_local_replace_switches_atomically(tmp_path):
    replaces(LocalLake(tmp_path / "lake"))


def test_s3_replace_switches_with_the_manifest_last(s3_server, s3_bucket):
    replaces(S3Lake(s3_bucket, "fti", endpoint_url=s3_server))


def test_a_failed_replace_leaves_the_old_version_intact(tmp_path):
    lake = LocalLake(tmp_path / "lake")
    lake.write_bytes(P + "manifest.parquet", b"old rows")
    (tmp_path / "lake" / "staging").write_text("a file where the staging folder goes")
    with pytest.raises(NotADirectoryError):
        replace_prefix(lake, P, {"manifest.parquet": b"new"}, last="manifest.parquet")
    assert lake.list(P) == [P + "manifest.parquet"] and lake.read_bytes(P + "manifest.parquet") == b"old rows"
