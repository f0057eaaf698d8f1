"""Zero-downtime re-indexing: build the champion's collection beside the one in service, check it, move the alias.

Readers only name the alias, so until :func:`reindex_catalog` moves it they keep searching the old collection
with the old model; a build that fails its checks (row count, recall) leaves the alias where it was. A rerun
resumes: images already in the new collection are not embedded again. :func:`rollback` points the alias back
at the previous version kept (``FTI_INDEX_KEEP_VERSIONS``).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from embedding.catalog import embed_rows, live_catalog, tombstone
from embedding.index import CatalogIndex, CatalogIndexError
from embedding.projection_fit import ensure_projection
from embedding.service import (
    collection_version,
    connect,
    in_service,
    move_alias,
    open_collection,
    read_history,
    write_history,
)
from embedding.versions import champion_version, collection_name, make_encoder, model_version
from include.core.lake import Lake, open_lake
from include.core.settings import Settings, get_settings

log = logging.getLogger(__name__)

ALL_DATES = "9999-12-31"


class ReindexCheckFailed(RuntimeError):
    """The new collection failed its checks; the alias was not moved."""


def recall_at_k(index: CatalogIndex, sample: int, k: int = 10, seed: int = 0) -> dict[str, Any]:
    """recall@k of the collection's index against exact search, for a fixed sample of its own vectors.

    The sample is drawn with a fixed seed from the sorted ids, so reruns ask the same queries. Exact top-k
    streams every stored vector once (memory: one page). A returned neighbour counts as correct when it is an
    exact top-k neighbour or ties the k-th exact similarity (1e-6), so duplicates do not lower recall.
    """
    ids = sorted(r["sha256"] for page in index.scan(("sha256",)) for r in page)
    if not ids:
        return {"recall": 1.0, "queries": 0, "k": k}
    chosen = sorted(np.random.default_rng(seed).choice(len(ids), size=min(sample, len(ids)), replace=False))
    qids = [ids[i] for i in chosen]
    by_id = index.vectors(qids)
    queries = np.stack([by_id[q] for q in qids])
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    k = min(k, len(ids))
    ann = index.search_ids(queries, k)
    best_sims = np.full((len(qids), 0), -np.inf, np.float32)
    best_ids = np.empty((len(qids), 0), object)
    sims_of: list[dict[str, float]] = [{} for _ in qids]
    wanted = [set(a) for a in ann]
    for page in index.scan(("sha256", "vector"), batch=2000):
        pids = np.asarray([r["sha256"] for r in page], object)
        vecs = np.asarray([r["vector"] for r in page], np.float32)
        sims = queries @ (vecs / np.linalg.norm(vecs, axis=1, keepdims=True)).T
        for q, want in enumerate(wanted):
            for j in np.flatnonzero(np.isin(pids, list(want))):
                sims_of[q][pids[j]] = float(sims[q, j])
        all_sims = np.hstack([best_sims, sims])
        all_ids = np.hstack([np.broadcast_to(best_ids, (len(qids), best_ids.shape[1])), np.tile(pids, (len(qids), 1))])
        top = np.argsort(-all_sims, axis=1)[:, :k]
        best_sims = np.take_along_axis(all_sims, top, axis=1)
        best_ids = np.take_along_axis(all_ids, top, axis=1)
    hits = 0
    for q in range(len(qids)):
        exact, kth = set(best_ids[q]), float(best_sims[q, -1])
        hits += sum(1 for a in ann[q] if a in exact or sims_of[q].get(a, -np.inf) >= kth - 1e-6)
    return {"recall": hits / (len(qids) * k), "queries": len(qids), "k": k}


def reindex_catalog(
    dt: str | None = None, lake: Lake | None = None, settings: Settings | None = None, version: str | None = None
) -> dict[str, Any]:
    """Build (or resume) the collection of the champion (or ``version``), check it, then move the alias to it.

    Args:
        dt: The catalog as of this date (default: every crawl so far).
        lake: The lake (default: the settings').
        settings: Settings (default: the process's).
        version: A model version to index instead of the champion (``imagenet-<name>`` or a registry version).

    Returns:
        ``collection``, ``model_version``, ``previous`` collection, ``rows``, ``embedded``, ``skipped``,
        ``recall`` (and the ``index`` report), or ``status: "in service"`` when nothing had to change.

    Raises:
        ReindexCheckFailed: row count or recall below ``FTI_REINDEX_MIN_RECALL``; the alias did not move.
    """
    settings = settings or get_settings()
    lake = lake or open_lake(settings.lake, settings.s3_endpoint_url)
    target = model_version(lake, settings, version) if version else champion_version(lake, settings)
    name = collection_name(settings.collection, target.version)
    live = live_catalog(lake, dt or ALL_DATES, settings.tombstone_after_crawls)
    with connect(settings) as conn:
        current = in_service(conn, lake, settings)
        previous = current[0] if current else None
        if previous == name:
            log.info("%s (%s) is already in service", name, target.version)
            return {"status": "in service", "collection": name, "model_version": target.version}
        ensure_projection(lake, settings, target, live)  # a projected pretrained version: its PCA, fitted once
        encoder = make_encoder(settings, lake, target)
        index = open_collection(conn, settings, name, encoder.dim, target)
        already = index.existing(live["sha256"].tolist())
        todo = live[~live["sha256"].isin(already)].reset_index(drop=True)
        log.info("re-index %s: %d live images, %d already there, %d to embed", name, len(live), len(already), len(todo))
        skipped: list[str] = []
        embedded = embed_rows(index, encoder, lake, todo, f"re-index {name}", lambda k, m: skipped.append(k))
        tombstone(index, live, sorted(set(live["source"]) | _sources(index)))
        expected, rows = len(live) - len(skipped), index.count()
        if rows != expected:
            raise ReindexCheckFailed(f"{name} holds {rows} rows, the catalog {expected}: alias left on {previous}")
        index.wait_for_index()  # on a server: check the built index, not brute-force search of fresh segments
        recall = recall_at_k(index, settings.reindex_sample)
        if recall["recall"] < settings.reindex_min_recall:
            raise ReindexCheckFailed(
                f"{name}: recall@{recall['k']} {recall['recall']:.3f} < {settings.reindex_min_recall}; alias left on "
                f"{previous}"
            )
        report = index.index_report()
        move_alias(conn, lake, settings, name, target.version, rows, f"re-index (recall {recall['recall']:.3f})")
    return {
        "collection": name, "model_version": target.version, "previous": previous, "rows": rows,
        "embedded": embedded, "skipped": len(skipped), "recall": recall["recall"], "index": report,
    }  # fmt: skip


def _sources(index: CatalogIndex) -> set[str]:
    return {r["source"] for page in index.scan(("sha256", "source")) for r in page if r.get("source")}


def rollback(lake: Lake | None = None, settings: Settings | None = None) -> dict[str, Any]:
    """Point the alias back at the previous collection in its history.

    Raises:
        CatalogIndexError: no previous version is kept.
    """
    settings = settings or get_settings()
    lake = lake or open_lake(settings.lake, settings.s3_endpoint_url)
    history = read_history(lake, settings.collection)
    with connect(settings) as conn:
        while len(history) >= 2 and not conn.client.has_collection(history[-2]["collection"]):
            history.pop(-2)  # dropped by hand: not a rollback target
        if len(history) < 2:
            raise CatalogIndexError(f"no previous version of {settings.collection} is kept to roll back to")
        current, previous = history[-1], history[-2]
        conn.move_alias(settings.collection, previous["collection"])
        write_history(lake, settings.collection, history[:-1])
    log.info("rolled back %s: %s -> %s", settings.collection, current["collection"], previous["collection"])
    return {"from": current["collection"], "to": previous["collection"], "model_version": previous["model_version"]}


def status(lake: Lake | None = None, settings: Settings | None = None) -> dict[str, Any]:
    """The alias, the collection and model version in service, its index settings, and the versions kept."""
    settings = settings or get_settings()
    lake = lake or open_lake(settings.lake, settings.s3_endpoint_url)
    with connect(settings) as conn:
        target = conn.alias_target(settings.collection)
        collections = {}
        for name in sorted(conn.client.list_collections()):
            if name.startswith(f"{settings.collection}_"):
                ix = CatalogIndex(conn.uri, name, 0, connection=conn)
                conn.client.load_collection(name)
                version = collection_version(conn, lake, settings.collection, name)
                collections[name] = {"model_version": version, "rows": ix.count()}
        report = None
        if target:
            from embedding.index import IndexConfig

            ix = CatalogIndex(conn.uri, target, 0, config=IndexConfig.from_settings(settings), connection=conn)
            report = ix.index_report()
    return {
        "uri": settings.resolved_milvus_uri(), "alias": settings.collection, "in_service": target,
        "champion": champion_version(lake, settings).version, "index": report, "collections": collections,
        "history": read_history(lake, settings.collection),
    }  # fmt: skip
