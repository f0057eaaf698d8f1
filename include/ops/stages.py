"""Stage entry points for the DAGs: plain arguments in, plain counts and URIs out (they travel as XCom)."""

from __future__ import annotations

import json
import logging
from typing import Any

from include.core.lake import Lake, open_lake
from include.core.layout import batch_prefix
from include.core.settings import Settings, get_settings

log = logging.getLogger(__name__)


class SourceBlockedError(RuntimeError):
    """The crawl was stopped by the site's bot wall and stored nothing; the message is its health's status line."""


def validate_source(source_name: str, dt: str, lake: Lake | None = None) -> dict[str, Any]:
    """Validate a source's batch of ``dt``; a failing batch is quarantined and raises.

    Raises:
        include.quality.validation.BatchValidationError: the batch failed (it was moved to quarantine).
        SourceBlockedError: the site's bot wall stopped the crawl before anything was stored.
    """
    from include.core.layout import HEALTH, MANIFEST, VALIDATION, quarantine_prefix
    from include.core.partition import Partition
    from include.core.sources import load_registry
    from include.quality.validation import BatchValidationError, raise_for_failure, validate_batch

    part = Partition.of(source_name, dt)  # a bad date or name is refused before anything is read
    source_name, dt = part.source, part.dt
    settings = get_settings()
    lake = lake or open_lake(settings.lake, settings.s3_endpoint_url)
    source = load_registry().get(source_name)
    prefix = batch_prefix(source.kind, source.name, dt)
    quarantined = quarantine_prefix(source.kind, source.name, dt)
    if not lake.exists(prefix + MANIFEST) and lake.exists(prefix + HEALTH):
        health = json.loads(lake.read_text(prefix + HEALTH))
        skipped, status = health.get("source_skipped"), health.get("status")  # status: crawlers.stops
        if skipped == "blocked-by-site":
            raise SourceBlockedError(status or f"{source.name}: blocked by the site; nothing stored")
        if skipped:  # e.g. no credentials: nothing to validate, nothing quarantined, nothing marked validated
            log.warning("source %s was skipped by its crawl (%s); no batch for %s", source.name, status or skipped, dt)
            return {"batch": prefix, "rows": 0, "success": True, "kind": source.kind, "dt": dt, "skipped": skipped,
                    **({"status": status} if status else {})}  # fmt: skip
    if not lake.exists(prefix + MANIFEST) and lake.exists(quarantined + MANIFEST):
        raise BatchValidationError(
            f"batch {prefix} was quarantined by an earlier attempt; see {lake.uri(quarantined + VALIDATION)} "
            "and rerun the crawl of this date once the source is fixed"
        )
    report = validate_batch(
        lake,
        prefix,
        min_image_side=settings.min_image_side,
        min_rows=settings.min_batch_rows,
        quarantine=True,
    )
    log.info("validation of %s: success=%s rows=%d", prefix, report.success, report.rows)
    raise_for_failure(report)
    return {"batch": prefix, "rows": report.rows, "success": report.success, "kind": source.kind, "dt": dt}


def check_readiness(dt: str, now: Any = None, lake: Lake | None = None) -> dict[str, Any]:
    """Whether ``dt`` can be ranked now (:func:`include.ops.readiness.readiness`), with a log line of who is in."""
    from datetime import UTC, datetime

    from include.core.sources import load_registry
    from include.ops.readiness import describe, readiness

    settings = get_settings()
    lake = lake or open_lake(settings.lake, settings.s3_endpoint_url)
    enabled = {s.name: s.kind for s in load_registry().sources if s.enabled}
    state = readiness(lake, dt, enabled, now or datetime.now(UTC), settings.rank_cutoff_hours,
                      settings.readiness_lookback_days, settings.readiness_sources)  # fmt: skip
    log.info("readiness %s", describe(state))
    return state


def ranked_already(dt: str, lake: Lake | None = None) -> str | None:
    """The run id of a report already published for ``dt`` (None when the date was not ranked yet)."""
    settings = get_settings()
    lake = lake or open_lake(settings.lake, settings.s3_endpoint_url)
    runs = sorted(k.split("/")[2] for k in lake.list(f"reports/dt={dt}/") if k.endswith("/manifest.json"))
    return runs[-1] if runs else None


def rank_and_publish(
    dt: str, lake: Lake | None = None, settings: Settings | None = None, readiness: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Match the date's social images to the catalog, score and rank the designs and publish the report.

    See :mod:`include.trends.run` (scoring, near-duplicates, momentum, themes, colours) and
    :mod:`include.reports.publishing` (atomic publish). Returns the run id, report URI, counts and notes.

    Args:
        dt: The date.
        lake: The lake (default: the settings' lake).
        settings: Settings (default: the process-wide ones).
        readiness: :func:`check_readiness` of the run: its late sources go into the notes and the manifest.

    Raises:
        include.trends.run.RankError: no social posts or an empty catalog; nothing was published.
        include.reports.publishing.PublishError: a write failed; ``latest.json`` still points at the last good report.
    """
    from include.core.partition import check_dt
    from include.trends.run import run_trends

    dt = check_dt(dt)
    settings = settings or get_settings()
    lake = lake or open_lake(settings.lake, settings.s3_endpoint_url)
    published = run_trends(dt, lake, settings, readiness)
    log.info("published %s", json.dumps(published, default=str))
    return published
