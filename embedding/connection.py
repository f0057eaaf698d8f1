"""A client on one Milvus (a Milvus Lite file or a server), holding the writer lock of a Milvus Lite file.

Also the alias operations: the alias is the only name readers use, and moving it is one call.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from embedding import lock

log = logging.getLogger(__name__)


class _LiteIteratorNoise(logging.Filter):
    """Milvus Lite has no AllocTimestamp RPC: pymilvus' query iterator then falls back to a client-side
    timestamp (correct for one writer) after an error log in the in-process server and a warning; drop both."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if "mvccTs" in text:
            return False
        exc = record.exc_info[1] if record.exc_info else None
        return not (isinstance(exc, NotImplementedError) and "calling application" in text)


for _name in ("grpc._server", "pymilvus.orm.iterator"):
    logging.getLogger(_name).addFilter(_LiteIteratorNoise())


class CatalogIndexError(RuntimeError):
    """The index cannot be used (schema mismatch, wrong dimension, server unreachable)."""


class MilvusConnection:
    """A client on one Milvus (file or server), holding this process's writer lock for a Milvus Lite file."""

    def __init__(self, uri: str, token: str | None = None, lock_timeout: float = 1800.0, timeout: float = 10.0):
        from pymilvus import MilvusClient

        if lock.is_lite(uri):
            from pathlib import Path

            Path(uri).parent.mkdir(parents=True, exist_ok=True)
        lock.acquire(uri, lock_timeout)
        try:
            self.client = MilvusClient(uri=uri, token=token or "", timeout=timeout)
        except Exception as exc:
            lock.release(uri)
            raise CatalogIndexError(f"cannot reach Milvus at {uri}: {exc}") from exc
        self.uri = uri
        self._open = True

    def close(self) -> None:
        """Close the client and release the writer lock (and this process's Milvus Lite server)."""
        if self._open:
            self._open = False
            try:
                self.client.close()
            finally:
                lock.release(self.uri)

    def __enter__(self) -> MilvusConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def alias_target(self, alias: str) -> str | None:
        """The collection an alias points at, or None when the alias does not exist."""
        if alias not in self.client.list_aliases().get("aliases", []):
            return None
        return self.client.describe_alias(alias)["collection_name"]

    def move_alias(self, alias: str, collection: str) -> None:
        """Point ``alias`` at ``collection`` in one call (create it the first time)."""
        if self.alias_target(alias) is None:
            if self.client.has_collection(alias) and alias not in self.client.list_aliases().get("aliases", []):
                raise CatalogIndexError(f"a collection named {alias!r} exists: the alias cannot take its name")
            self.client.create_alias(collection, alias)
        else:
            self.client.alter_alias(collection, alias)
        log.info("alias %s -> %s", alias, collection)

    def description(self, collection: str) -> dict[str, Any]:
        """The JSON the collection was created with (model version, model name, dim), or ``{}``."""
        try:
            return json.loads(self.client.describe_collection(collection).get("description") or "{}")
        except json.JSONDecodeError:
            return {}
