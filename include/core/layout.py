"""Where things live in the lake. Every key is partitioned by logical date (``dt=YYYY-MM-DD``) or content hash.

images/full/<sha1(url)>.jpg                         images, normalised to RGB JPEG (Scrapy ImagesPipeline)
batches/kind=<k>/source=<s>/dt=<d>/manifest.parquet one row per stored image
batches/kind=<k>/source=<s>/dt=<d>/health.json      crawl counters (pages, items, skips by reason, errors)
batches/kind=<k>/source=<s>/dt=<d>/skips.jsonl      every skipped URL with its reason
staging/<prefix><token>/                            a batch being written, before the switch (include.core.replace)
batches/kind=<k>/source=<s>/dt=<d>/validation.json  the Great Expectations result; success gates embedding
quarantine/kind=<k>/source=<s>/dt=<d>/...           a batch that failed validation, moved aside
matches/dt=<d>/matches.parquet                      social image -> catalog neighbours of one run
reports/dt=<d>/<run_id>/...                         immutable published report
reports/latest.json                                 the one pointer readers follow
history/winning_designs/dt=<d>/part.parquet         every scored design of a run (momentum, trend series read it)
history/themes/dt=<d>/part.parquet                  the theme registry after a run (stable theme ids)
history/designs/dt=<d>/part.parquet                 the design registry after a run (stable design ids)
state/catalog_index/dt=<d>.json                    which portal batches of a date the catalog index holds
"""

from __future__ import annotations

import re

from include.core.partition import PartitionError, check_dt, check_name

MANIFEST = "manifest.parquet"
HEALTH = "health.json"
SKIPS = "skips.jsonl"  # one line per skipped URL of the crawl: {"reason", "url", "detail"}
VALIDATION = "validation.json"
IMAGES_PREFIX = "images"
LATEST = "reports/latest.json"
HISTORY_PREFIX = "history/winning_designs/"
THEME_REGISTRY_PREFIX = "history/themes/"
DESIGN_REGISTRY_PREFIX = "history/designs/"

MANIFEST_COLUMNS = [
    "sha256", "source", "kind", "horizon", "product_id", "page_url", "image_url", "image_key",
    "title", "brand", "price", "currency", "likes", "posted_at", "caption",
    "width", "height", "format", "bytes", "crawled_at",
]  # fmt: skip


def batch_prefix(kind: str, source: str, dt: str) -> str:
    """Prefix of one crawl batch (kind, source and date checked: :mod:`include.core.partition`)."""
    return f"batches/kind={check_name(kind, 'kind')}/source={check_name(source)}/dt={check_dt(dt)}/"


def quarantine_prefix(kind: str, source: str, dt: str) -> str:
    """Prefix a failed batch is moved to."""
    return f"quarantine/kind={check_name(kind, 'kind')}/source={check_name(source)}/dt={check_dt(dt)}/"


def matches_key(dt: str) -> str:
    """Social-to-catalog matches of one date."""
    return f"matches/dt={check_dt(dt)}/matches.parquet"


def report_prefix(dt: str, run_id: str) -> str:
    """Immutable prefix of one published report."""
    if not re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*", str(run_id)) or set(str(run_id)) == {"."}:
        raise PartitionError(f"invalid run id {run_id!r}")
    return f"reports/dt={check_dt(dt)}/{run_id}/"


def history_key(dt: str) -> str:
    """The history partition of one date."""
    return f"{HISTORY_PREFIX}dt={check_dt(dt)}/part.parquet"


def theme_registry_key(dt: str) -> str:
    """The theme registry written by the run of one date."""
    return f"{THEME_REGISTRY_PREFIX}dt={check_dt(dt)}/part.parquet"


def design_registry_key(dt: str) -> str:
    """The design registry written by the run of one date."""
    return f"{DESIGN_REGISTRY_PREFIX}dt={check_dt(dt)}/part.parquet"


def catalog_state_key(dt: str) -> str:
    """What ``embed_catalog`` put in the index for one date (the readiness rule reads it)."""
    return f"state/catalog_index/dt={check_dt(dt)}.json"
