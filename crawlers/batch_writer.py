"""Writing one crawl batch: manifest, health and the per-URL skip list, write-new-then-switch.

The batch of a (source, date) is replaced as a whole by :func:`include.core.replace.replace_prefix` (staged,
verified, switched; the manifest last), so a rerun that fails half-way leaves the previous batch intact and
readable. A write that fails fails the crawl (:mod:`crawlers.write_errors`).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from crawlers.skips import skips_jsonl
from crawlers.write_errors import WRITE_ERROR, record_write_error
from include.core.lake import Lake
from include.core.layout import HEALTH, MANIFEST, SKIPS
from include.core.replace import replace_prefix

log = logging.getLogger(__name__)


def failed_write(crawler: Any, health: dict[str, Any]) -> bool:
    """True (and the reason put in ``health["error"]``) when a write of this crawl has failed."""
    line = crawler.stats.get_value(WRITE_ERROR)
    if not line:
        return False
    health["error"] = line
    crawler.stats.set_value("fti/health", health)
    log.error("crawl of %s failed: %s; no batch written", health.get("source"), line)
    return True


def write_batch(crawler: Any, lake: Lake, prefix: str, manifest: bytes, health: dict[str, Any]) -> None:
    """Replace the batch at ``prefix`` by ``manifest`` + ``health`` + ``skips.jsonl``; a failure is recorded."""
    files = {
        MANIFEST: manifest,
        HEALTH: json.dumps(health, indent=2, sort_keys=True).encode(),
        SKIPS: skips_jsonl(crawler),
    }
    try:
        replace_prefix(lake, prefix, files, last=MANIFEST)
    except Exception as exc:  # lake, OS and boto errors alike: the crawl fails, the old batch stays
        record_write_error(crawler, exc, f"batch {prefix}")
        failed_write(crawler, health)


def write_health_only(crawler: Any, lake: Lake, prefix: str, health: dict[str, Any]) -> None:
    """A skipped source's health (no manifest); a failure is recorded like any write."""
    try:
        lake.write_text(prefix + HEALTH, json.dumps(health, indent=2, sort_keys=True))
    except Exception as exc:
        record_write_error(crawler, exc, f"health {prefix}")
        failed_write(crawler, health)
