"""The collection in service: the alias, its history, and the first collection of a fresh install.

The alias ``FTI_COLLECTION`` is the only thing readers name. Every move of it is appended to the lake's
``index/<alias>-versions.json`` (written whole, through the Lake API): the last entry is the collection in
service, the ones before it are the rollback targets. After a move, collections of this alias
(``<alias>_*``) outside the last ``FTI_INDEX_KEEP_VERSIONS + 1`` entries are dropped; the one in service never
is. A rollback only moves the alias back (the collection rolled back from stays until the next move).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from embedding.index import CatalogIndex, CatalogIndexError, IndexConfig, MilvusConnection
from embedding.versions import ModelVersion, champion_version, collection_name, model_version
from include.core.lake import Lake
from include.core.settings import Settings

log = logging.getLogger(__name__)


def connect(settings: Settings) -> MilvusConnection:
    """A connection to the configured Milvus (waits for a Milvus Lite file's writer lock)."""
    return MilvusConnection(settings.resolved_milvus_uri(), settings.milvus_token, settings.milvus_lock_timeout)


def history_key(alias: str) -> str:
    """Lake key of the alias's move history."""
    return f"index/{alias}-versions.json"


def read_history(lake: Lake, alias: str) -> list[dict[str, Any]]:
    """Moves of the alias, oldest first; the last one is in service."""
    key = history_key(alias)
    return json.loads(lake.read_text(key)) if lake.exists(key) else []


def write_history(lake: Lake, alias: str, history: list[dict[str, Any]]) -> None:
    """Replace the alias's history."""
    lake.write_text(history_key(alias), json.dumps(history, indent=1))


def open_collection(
    conn: MilvusConnection, settings: Settings, name: str, dim: int, version: ModelVersion | None = None
) -> CatalogIndex:
    """A catalog collection, created (with the version in its description) when missing, and loaded."""
    meta = {"model_version": version.version, "model_name": version.model_name} if version else {}
    index = CatalogIndex(conn.uri, name, dim, config=IndexConfig.from_settings(settings), connection=conn, meta=meta)
    index.ensure()
    return index


def move_alias(
    conn: MilvusConnection, lake: Lake, settings: Settings, collection: str, version: str, rows: int, why: str
) -> dict[str, Any]:
    """Point the alias at ``collection``, record the move, drop versions beyond the rollback window."""
    alias = settings.collection
    conn.move_alias(alias, collection)
    history = read_history(lake, alias)
    entry = {
        "collection": collection, "model_version": version, "rows": rows, "why": why,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }  # fmt: skip
    history = [h for h in history if h["collection"] != collection] + [entry]
    write_history(lake, alias, history)
    prune(conn, lake, settings)
    return entry


def prune(conn: MilvusConnection, lake: Lake, settings: Settings) -> list[str]:
    """Drop this alias's collections (``<alias>_*``) that are neither in service nor among the last
    ``index_keep_versions`` previous ones in the history; returns their names."""
    alias = settings.collection
    history = read_history(lake, alias)
    keep = {h["collection"] for h in history[-(settings.index_keep_versions + 1) :]}
    keep.add(conn.alias_target(alias) or "")
    names = [n for n in conn.client.list_collections() if n.startswith(f"{alias}_") and n not in keep]
    for name in names:
        conn.client.drop_collection(name)
        log.info("dropped %s (beyond the %d kept versions)", name, settings.index_keep_versions)
    if names:
        write_history(lake, alias, [h for h in history if h["collection"] not in names])
    return names


def collection_version(conn: MilvusConnection, lake: Lake, alias: str, name: str) -> str | None:
    """The model version of a collection: from its description (Milvus server), else from the alias history
    (Milvus Lite keeps no collection description)."""
    version = conn.description(name).get("model_version")
    for entry in read_history(lake, alias):
        if not version and entry["collection"] == name:
            version = entry["model_version"]
    return version


def in_service(conn: MilvusConnection, lake: Lake, settings: Settings) -> tuple[str, ModelVersion] | None:
    """The collection the alias points at and the model version whose vectors it holds (None: no alias)."""
    target = conn.alias_target(settings.collection)
    if target is None:
        return None
    version = collection_version(conn, lake, settings.collection, target)
    if not version:
        raise CatalogIndexError(
            f"collection {target} behind alias {settings.collection} records no model version: rebuild it with "
            "`fti index reindex`"
        )
    return target, model_version(lake, settings, version)


def service_index(
    conn: MilvusConnection,
    lake: Lake,
    settings: Settings,
    create: bool = True,
    prepare: Callable[[ModelVersion], Any] | None = None,
) -> tuple[CatalogIndex, Any]:
    """The index in service and the encoder of its model version.

    On a fresh install (no alias yet) and with ``create``, the collection of the champion (or of the pretrained
    backbone) is created and the alias pointed at it, so the first nightly run fills it; ``prepare`` is called
    with that version first (the embed stage fits a projected version's PCA there).

    Raises:
        CatalogIndexError: no collection in service and ``create`` is False, or a legacy collection holds the
            alias's name.
    """
    from embedding.versions import make_encoder

    current = in_service(conn, lake, settings)
    if current is None:
        if conn.client.has_collection(settings.collection):
            raise CatalogIndexError(
                f"a collection named {settings.collection!r} predates versioned collections: drop it or set "
                "FTI_COLLECTION to a new alias, then re-embed"
            )
        if not create:
            raise CatalogIndexError(f"no collection in service behind alias {settings.collection}: embed first")
        version = champion_version(lake, settings)
        if prepare is not None:
            prepare(version)
        encoder = make_encoder(settings, lake, version)
        name = collection_name(settings.collection, version.version)
        index = open_collection(conn, settings, name, encoder.dim, version)
        move_alias(conn, lake, settings, name, version.version, index.count(), "first collection")
        return index, encoder
    name, version = current
    encoder = make_encoder(settings, lake, version)
    return open_collection(conn, settings, name, encoder.dim, version), encoder
