"""Stage entry points for the DAGs: plain arguments in, plain counts and URIs out (they travel as XCom)."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pandas as pd

from include.lake import Lake, open_lake
from include.layout import batch_prefix
from include.settings import Settings, get_settings

log = logging.getLogger(__name__)


def validate_source(source_name: str, dt: str, lake: Lake | None = None) -> dict[str, Any]:
    """Validate a source's batch of ``dt``; a failing batch is quarantined and raises.

    Raises:
        include.validation.BatchValidationError: the batch failed (it was moved to quarantine).
    """
    from include.layout import MANIFEST, VALIDATION, quarantine_prefix
    from include.sources import load_registry
    from include.validation import BatchValidationError, raise_for_failure, validate_batch

    settings = get_settings()
    lake = lake or open_lake(settings.lake, settings.s3_endpoint_url)
    source = load_registry().get(source_name)
    prefix = batch_prefix(source.kind, source.name, dt)
    quarantined = quarantine_prefix(source.kind, source.name, dt)
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


def rank_and_publish(dt: str, lake: Lake | None = None, settings: Settings | None = None) -> dict[str, Any]:
    """Match the date's social images to the catalog, rank the designs and publish the report."""
    from embedding.matching import match_social
    from include.batches import batch_prefixes, is_validated
    from include.publishing import publish_report
    from include.ranking import rank_designs

    settings = settings or get_settings()
    lake = lake or open_lake(settings.lake, settings.s3_endpoint_url)
    matched = match_social(dt, lake, settings)
    matches = pd.read_parquet(io.BytesIO(lake.read_bytes(matched["matches"])))
    table = rank_designs(matches, dt, settings.match_threshold, settings.match_margin, settings.report_top_n)
    inputs = {
        "batches": sorted(
            p for kind in ("portal", "social") for p in batch_prefixes(lake, kind, dt) if is_validated(lake, p)
        ),
        "model": settings.model_name,
        "pretrained": settings.pretrained,
        "index": {"uri_kind": "lite" if "://" not in settings.resolved_milvus_uri() else "server",
                  "collection": settings.collection},
        "params": {"top_k": settings.top_k, "threshold": settings.match_threshold,
                   "margin": settings.match_margin, "top_n": settings.report_top_n},
    }  # fmt: skip
    published = publish_report(lake, table, dt, inputs)
    log.info("published %s", json.dumps(published))
    return {**published, "posts": matched["posts"], "designs": len(table)}
