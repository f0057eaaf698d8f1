"""Finding and reading crawl batches in the lake."""

from __future__ import annotations

import io
import json
import logging

import pandas as pd

from include.core.lake import Lake
from include.core.layout import MANIFEST, MANIFEST_COLUMNS, VALIDATION

log = logging.getLogger(__name__)


def batch_prefixes(lake: Lake, kind: str, dt: str) -> list[str]:
    """Prefixes of every batch of ``kind`` for date ``dt`` (any source) that has a manifest."""
    keys = lake.list(f"batches/kind={kind}/")
    return sorted(k[: -len(MANIFEST)] for k in keys if k.endswith(f"/dt={dt}/{MANIFEST}"))


def is_validated(lake: Lake, prefix: str) -> bool:
    """Whether ``prefix`` (with or without its trailing ``/``) holds a ``validation.json`` that records success."""
    key = prefix.rstrip("/") + "/" + VALIDATION
    if not lake.exists(key):
        return False
    try:
        return json.loads(lake.read_text(key)).get("success") is True
    except (ValueError, AttributeError):
        return False


def read_manifest(lake: Lake, prefix: str) -> pd.DataFrame:
    """One batch's manifest."""
    return pd.read_parquet(io.BytesIO(lake.read_bytes(prefix + MANIFEST)))


def validated_manifest(lake: Lake, kind: str, dt: str) -> pd.DataFrame:
    """All validated batches of ``kind`` for ``dt`` in one frame, deduplicated by content hash.

    Batches that have not passed validation are skipped with a warning: nothing unvalidated is embedded.
    """
    frames = []
    for prefix in batch_prefixes(lake, kind, dt):
        if not is_validated(lake, prefix):
            log.warning("skipping batch %s: not validated", prefix)
            continue
        frames.append(read_manifest(lake, prefix))
    if not frames:
        return pd.DataFrame(columns=MANIFEST_COLUMNS)
    frame = pd.concat(frames, ignore_index=True)
    return frame.drop_duplicates("sha256", keep="first").sort_values("sha256", kind="stable").reset_index(drop=True)
