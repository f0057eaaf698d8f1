"""Replay a past date from the lake: re-validate its stored batches, embed, rank and publish, fetching nothing.

``fti_backfill`` calls :func:`replay_date` for each date of a backfill (after the crawls of the sources that can
replay a past date, see :mod:`include.ops.backfill`). Nothing here opens a connection to a source: the stored
batches are what the date's crawls delivered, and a source without one is reported as missing.
"""

from __future__ import annotations

import logging
from typing import Any

from include.core.lake import Lake, open_lake
from include.core.layout import HEALTH, MANIFEST, batch_prefix, quarantine_prefix
from include.core.settings import Settings, get_settings

log = logging.getLogger(__name__)


def replay_date(dt: str, sources: list[str], lake: Lake | None = None, settings: Settings | None = None) -> dict:
    """Re-run validation, embedding, ranking and publishing of ``dt`` from the stored batches of ``sources``.

    Args:
        dt: The date to replay.
        sources: Sources whose stored batches are re-validated (the non-replayable ones of the backfill).
        lake: The lake (default: the settings' lake).
        settings: Settings (default: the process-wide ones).

    Returns:
        ``dt``, ``validated`` (source -> rows), ``failed`` (source -> why), ``skipped`` and ``missing`` sources,
        ``embedded`` (the catalog stage's counts or None), and the publish result under ``published``.

    Raises:
        include.trends.run.RankError: nothing to rank for the date (no social posts or no catalog).
    """
    from include.core.sources import load_registry
    from include.ops.stages import rank_and_publish, validate_source

    settings = settings or get_settings()
    lake = lake or open_lake(settings.lake, settings.s3_endpoint_url)
    registry = load_registry()
    out: dict[str, Any] = {"dt": dt, "validated": {}, "failed": {}, "skipped": [], "missing": []}
    for name in sources:
        source = registry.get(name)
        prefix = batch_prefix(source.kind, name, dt)
        stored = lake.exists(prefix + MANIFEST) or lake.exists(prefix + HEALTH)
        if not stored and not lake.exists(quarantine_prefix(source.kind, name, dt) + MANIFEST):
            out["missing"].append(name)
            continue
        try:
            result = validate_source(name, dt, lake=lake)
        except Exception as exc:  # a bad stored batch is counted and named; the other sources still replay
            log.warning("replay %s %s: %s", name, dt, exc)
            out["failed"][name] = str(exc)
            continue
        if result.get("skipped"):
            out["skipped"].append(name)
        else:
            out["validated"][name] = result["rows"]
    log.info("replay %s: validated %s, failed %s, skipped %s, missing %s", dt, out["validated"], sorted(out["failed"]),
             out["skipped"], out["missing"])  # fmt: skip
    import re

    portal_dates = {m.group(1) for k in lake.list("batches/kind=portal/") if (m := re.search(r"/dt=([0-9-]+)/", k))}
    out["embedded"] = None
    if dt in portal_dates and dt >= max(portal_dates):
        from embedding.catalog import embed_catalog

        out["embedded"] = embed_catalog(dt, lake, settings)
    elif dt in portal_dates:  # embedding an older catalog would tombstone the newer products still on sale
        log.warning("replay %s: the index already holds a newer catalog (%s); catalog not re-embedded", dt,
                    max(portal_dates))  # fmt: skip
    out["published"] = rank_and_publish(dt, lake, settings)
    return out
