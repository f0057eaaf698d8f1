"""Helpers of the embedding tests: validated portal batches written straight into a lake."""

from __future__ import annotations

import hashlib
import io
import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from include.core.layout import MANIFEST_COLUMNS, batch_prefix

TEST_MODEL = "test_efficientnet"


def garment_jpeg(i: int, size: int = 160) -> bytes:
    """A distinct small product shot: a coloured shape on white, different for every ``i``."""
    rng = np.random.default_rng(i)
    arr = np.full((size, size, 3), 245, np.uint8)
    colour = rng.integers(0, 230, 3)
    x0, y0 = rng.integers(10, 50, 2)
    x1, y1 = rng.integers(100, size - 10, 2)
    arr[y0:y1, x0:x1] = colour
    arr[y0 : (y0 + y1) // 2, x0 : (x0 + x1) // 2] = 255 - colour
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def write_batch(
    lake, source: str, dt: str, items: list[int | bytes], validated: bool = True, kind: str = "portal"
) -> list[str]:
    """A batch of ``items`` (ints become :func:`garment_jpeg`; bytes are stored as they are).

    Returns the sha256 of each item in order.
    """
    rows, shas = [], []
    for n, item in enumerate(items):
        data = garment_jpeg(item) if isinstance(item, int) else item
        sha = hashlib.sha256(data).hexdigest()
        key = f"images/full/{sha[:40]}.jpg"
        lake.write_bytes(key, data)
        row = dict.fromkeys(MANIFEST_COLUMNS)
        row.update(sha256=sha, source=source, kind=kind, horizon="current", likes=n,
                   posted_at=f"{dt}T00:00:00Z", product_id=f"{source}-{n}", image_key=key,
                   page_url=f"https://shop.example/{sha[:8]}", title=f"item {item if isinstance(item, int) else n}",
                   brand="b", price=10.0 + n, currency="EUR", crawled_at=f"{dt}T00:00:00Z")  # fmt: skip
        rows.append(row)
        shas.append(sha)
    prefix = batch_prefix(kind, source, dt)
    buf = io.BytesIO()
    pd.DataFrame(rows, columns=MANIFEST_COLUMNS).astype({"price": float}).to_parquet(buf, index=False)
    lake.write_bytes(prefix + "manifest.parquet", buf.getvalue())
    lake.write_text(prefix + "validation.json", json.dumps({"success": validated}))
    return shas


@pytest.fixture
def lake(tmp_path):
    from include.core.lake import LocalLake

    return LocalLake(tmp_path / "lake")


@pytest.fixture
def small_settings(monkeypatch):
    """Fast settings: timm's tiny ``test_efficientnet`` (random weights, 160 px, 256 features), small batches,
    inline decoding, a short tombstone window. The plumbing under test is the same for any model."""
    from include.core.settings import get_settings

    monkeypatch.setenv("FTI_MODEL_NAME", TEST_MODEL)
    monkeypatch.setenv("FTI_PRETRAINED", "false")

    monkeypatch.setenv("FTI_EMBED_BATCH_SIZE", "4")
    monkeypatch.setenv("FTI_EMBED_WORKERS", "0")
    monkeypatch.setenv("FTI_TOMBSTONE_AFTER_CRAWLS", "2")
    monkeypatch.setenv("FTI_DEVICE", "cpu")
    get_settings.cache_clear()
    return get_settings()
