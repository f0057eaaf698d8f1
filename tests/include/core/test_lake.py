from __future__ import annotations

import pytest

from include.core.lake import LakeError, LocalLake, S3Lake, open_lake


def exercise(lake) -> None:
    assert lake.list("batches/") == []
    uri = lake.write_bytes("batches/a/x.bin", b"one")
    assert uri == lake.uri("batches/a/x.bin")
    lake.write_text("batches/a/y.txt", "two")
    lake.write_bytes("batches/b/z.bin", b"three")
    assert lake.read_bytes("batches/a/x.bin") == b"one"
    assert lake.read_text("batches/a/y.txt") == "two"
    assert lake.exists("batches/a/x.bin") and not lake.exists("batches/a/nope")
    assert lake.list("batches/a/") == ["batches/a/x.bin", "batches/a/y.txt"]
    lake.write_bytes("batches/a/x.bin", b"replaced")
    assert lake.read_bytes("batches/a/x.bin") == b"replaced"
    assert lake.key_of(lake.uri("batches/b/z.bin")) == "batches/b/z.bin"
    assert lake.delete_prefix("batches/a/") == 2
    assert lake.list("batches/") == ["batches/b/z.bin"]
    with pytest.raises(LakeError):
        lake.read_bytes("batches/a/x.bin")
    with pytest.raises(LakeError):
        lake.delete_prefix("")


def test_local_lake(tmp_path):
    exercise(LocalLake(tmp_path / "lake"))


def test_local_lake_refuses_escaping_keys(tmp_path):
    lake = LocalLake(tmp_path / "lake")
    with pytest.raises(LakeError):
        lake.write_bytes("../outside.txt", b"x")
    assert not (tmp_path / "outside.txt").exists()


def test_local_write_leaves_no_temporary_files(tmp_path):
    lake = LocalLake(tmp_path)
    lake.write_bytes("a/b.bin", b"x" * 1000)
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["b.bin"]


def test_s3_lake_against_moto_server(s3_server, s3_bucket):
    lake = S3Lake(s3_bucket, "fti", endpoint_url=s3_server)
    assert lake.uri("k") == f"s3://{s3_bucket}/fti/k"
    exercise(lake)


def test_open_lake_picks_the_store(tmp_path, s3_server, s3_bucket):
    assert isinstance(open_lake(str(tmp_path)), LocalLake)
    lake = open_lake(f"s3://{s3_bucket}/pre/fix", endpoint_url=s3_server)
    assert isinstance(lake, S3Lake) and lake.prefix == "pre/fix"


UNSAFE = ["..", "a/../b", "./a", "a/./b", "/etc/passwd", "a\\b", "a\x00b", "a//b", "batches/x/dt=x/../../../../"]


def refuses_unsafe_keys(lake) -> None:
    from include.core.lake import check_key

    for key in UNSAFE:
        for op in (lambda k: lake.write_bytes(k, b"x"), lake.read_bytes, lake.exists, lake.list, lake.delete_prefix):
            with pytest.raises(LakeError, match="unsafe lake key|escapes|root"):
                op(key)
        with pytest.raises(LakeError):
            check_key(key)
    assert check_key("batches/a/") == "batches/a/" and check_key("images/full/ab.jpg") == "images/full/ab.jpg"


def test_local_lake_refuses_unsafe_keys_and_symlinks_out(tmp_path):
    lake = LocalLake(tmp_path / "lake")
    lake.write_bytes("batches/a/x.bin", b"one")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    (tmp_path / "lake" / "batches" / "link").symlink_to(outside)
    (tmp_path / "lake" / "batches" / "root").symlink_to(tmp_path / "lake")
    refuses_unsafe_keys(lake)
    for key in ("batches/link/", "batches/link/keep.txt", "batches/root/", "batches/root"):
        with pytest.raises(LakeError, match="escapes|root"):
            lake.delete_prefix(key)
    with pytest.raises(LakeError, match="escapes"):
        lake.read_bytes("batches/link/keep.txt")
    assert (outside / "keep.txt").read_text() == "keep" and lake.read_bytes("batches/a/x.bin") == b"one"
    assert lake.list("") == ["batches/a/x.bin"]  # symlinks are not keys


def test_s3_lake_refuses_unsafe_keys(s3_server, s3_bucket):
    lake = S3Lake(s3_bucket, "fti", endpoint_url=s3_server)
    lake.write_bytes("batches/a/x.bin", b"one")
    S3Lake(s3_bucket, "fti-other", endpoint_url=s3_server).write_bytes("k", b"sibling")
    refuses_unsafe_keys(lake)
    assert lake.list("") == ["batches/a/x.bin"]  # never the sibling prefix fti-other/
