"""The lake: one small storage interface over a local folder or an S3 prefix.

Keys are POSIX-style relative paths (``batches/source=x/dt=2026-11-27/manifest.parquet``). Every write is
atomic for a reader: the local store writes a temporary file and renames it, S3 PUTs are atomic by nature.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path
from urllib.parse import urlparse


class LakeError(RuntimeError):
    """A lake operation failed (missing key, unreachable store, failed precondition)."""


def check_key(key: str, *, root_ok: bool = False) -> str:
    """``key`` when it is a safe relative key, else :class:`LakeError` (nothing is touched).

    Refused: an absolute path, a backslash, a NUL byte, an empty, ``.`` or ``..`` segment (a trailing ``/`` of a
    prefix is fine), and the empty key unless ``root_ok`` (listing or naming the whole lake).
    """
    if not isinstance(key, str):
        raise LakeError(f"lake key {key!r} is not a string")
    if not key:
        if root_ok:
            return key
        raise LakeError("empty lake key")
    if key.startswith("/") or "\\" in key or "\x00" in key:
        raise LakeError(f"unsafe lake key {key!r}: absolute, backslash or NUL")
    parts = key[:-1].split("/") if key.endswith("/") else key.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise LakeError(f"unsafe lake key {key!r}: empty, '.' or '..' segment")
    return key


class Lake(ABC):
    """Byte store addressed by relative keys."""

    @abstractmethod
    def uri(self, key: str = "") -> str:
        """Absolute URI (path or ``s3://``) of ``key``."""

    @abstractmethod
    def write_bytes(self, key: str, data: bytes) -> str:
        """Write ``data`` at ``key`` (replacing it) and return its URI."""

    @abstractmethod
    def read_bytes(self, key: str) -> bytes:
        """Read ``key``; raise ``LakeError`` when it does not exist."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether ``key`` exists."""

    @abstractmethod
    def list(self, prefix: str) -> list[str]:
        """Sorted keys (files only) under ``prefix``."""

    @abstractmethod
    def delete_prefix(self, prefix: str) -> int:
        """Delete every key under ``prefix``; return how many were deleted."""

    def write_text(self, key: str, text: str) -> str:
        """Write UTF-8 text."""
        return self.write_bytes(key, text.encode("utf-8"))

    def read_text(self, key: str) -> str:
        """Read UTF-8 text."""
        return self.read_bytes(key).decode("utf-8")

    def key_of(self, uri: str) -> str:
        """Relative key of an absolute URI inside this lake (the inverse of :meth:`uri`)."""
        root = self.uri("").rstrip("/") + "/"
        if not uri.startswith(root):
            raise LakeError(f"{uri} is not inside the lake {root}")
        return uri[len(root) :]


class LocalLake(Lake):
    """A lake in a local folder."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser().resolve()

    def _path(self, key: str, *, root_ok: bool = False) -> Path:
        """The resolved path of ``key`` (symlinks followed); refused unless strictly inside the root."""
        check_key(key, root_ok=root_ok)
        path = (self.root / key).resolve()
        if path == self.root and key and not root_ok:
            raise LakeError(f"key {key!r} names the lake root")
        if path != self.root and self.root not in path.parents:
            raise LakeError(f"key {key!r} escapes the lake")
        return path

    def uri(self, key: str = "") -> str:
        return str(self._path(key)) if key else str(self.root)

    def write_bytes(self, key: str, data: bytes) -> str:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return str(path)

    def read_bytes(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise LakeError(f"{self.uri(key)} does not exist") from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str) -> list[str]:
        base = self._path(prefix, root_ok=True)
        if base.is_file():
            return [prefix]
        if not base.is_dir():
            return []
        keys = (p.relative_to(self.root).as_posix() for p in base.rglob("*") if p.is_file() and not p.is_symlink())
        return sorted(k for k in keys if not Path(k).name.startswith("."))

    def delete_prefix(self, prefix: str) -> int:
        if not prefix.strip("/"):
            raise LakeError("refusing to delete the whole lake")
        base = self._path(prefix)  # resolved: a symlink to the root or outside it is refused
        if base.is_file():
            base.unlink()
            return 1
        if not base.is_dir():
            return 0
        count = sum(1 for p in base.rglob("*") if p.is_file())
        shutil.rmtree(base)
        return count


class S3Lake(Lake):
    """A lake under ``s3://bucket/prefix`` through boto3 (standard retry mode, custom endpoint allowed)."""

    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None, client=None) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client or boto3.client(
            "s3",
            endpoint_url=endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None,
            config=Config(retries={"mode": "standard", "max_attempts": 5}),
        )

    def _key(self, key: str, *, root_ok: bool = False) -> str:
        check_key(key, root_ok=root_ok)
        return f"{self.prefix}/{key}" if self.prefix else key

    def uri(self, key: str = "") -> str:
        full = self._key(key, root_ok=True) if key else self.prefix
        return f"s3://{self.bucket}/{full}".rstrip("/")

    def write_bytes(self, key: str, data: bytes) -> str:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)
        return self.uri(key)

    def read_bytes(self, key: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except ClientError as exc:
            raise LakeError(f"cannot read {self.uri(key)}: {exc}") from exc

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True

    def list(self, prefix: str) -> list[str]:
        full = self._key(prefix, root_ok=True)
        strip = len(self.prefix) + 1 if self.prefix else 0
        keys: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=full):
            keys.extend(obj["Key"][strip:] for obj in page.get("Contents", []))
        return sorted(keys)

    def delete_prefix(self, prefix: str) -> int:
        if not prefix.strip("/"):
            raise LakeError("refusing to delete the whole lake")
        keys = self.list(prefix)
        for start in range(0, len(keys), 1000):
            chunk = [{"Key": self._key(k)} for k in keys[start : start + 1000]]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": chunk, "Quiet": True})
        return len(keys)


def open_lake(uri: str | None = None, endpoint_url: str | None = None) -> Lake:
    """Open the lake at ``uri`` (default: settings), a local folder or ``s3://bucket/prefix``."""
    if uri is None or endpoint_url is None:
        from include.core.settings import get_settings

        settings = get_settings()
        uri = uri or settings.lake
        endpoint_url = endpoint_url or settings.s3_endpoint_url
    if uri.startswith("s3://"):
        parsed = urlparse(uri)
        return S3Lake(parsed.netloc, parsed.path, endpoint_url=endpoint_url)
    return LocalLake(uri)
