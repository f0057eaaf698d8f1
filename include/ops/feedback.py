"""A designer's verdicts on published matches become labelled data for ``train_embedder``.

A feedback file (CSV or JSON records, uploaded anywhere in the lake, e.g. ``feedback/inbox/2026-11-03.csv``) has
one row per verdict::

    dt        date of the report the designer looked at (YYYY-MM-DD)
    design_id the design of the match (the table's ``design_id``)
    post      the social post of the match: its ``post_url`` or ``image_key`` (from the row's evidence)
    verdict   right | wrong
    designer  optional: who said so

:func:`ingest_feedback` checks each row against the published report of its date (the design must be in the
table and the post among its evidence), then writes, under content-hash names so that ingesting the same file
twice writes the same files:

* ``labels/feedback/dt=<d>/<sha>.parquet``: the verdicts as given, with the image keys they resolved to;
* ``labels/pairs/feedback-<sha>.parquet``: each *right* match as a consumer/shop pair (``anchor_image`` the
  post's photo, ``positive_image`` the design's catalog photo, ``item_id`` the design id, its ``category``),
  the format ``training.data.pairs`` reads (the default training data);
* ``labels/negatives/feedback-<sha>.parquet``: each *wrong* match (``anchor_image``, ``negative_image``,
  ``item_id``): kept for hard-negative mining; the trainer does not read them yet.

The ``fti_feedback`` DAG runs it and emits the Asset ``fti_labelled_data``, which schedules ``train_embedder``
(whose ``plan`` sees the new pairs in the data fingerprint).
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pandas as pd

from include.core.hashing import sha256_hex
from include.core.lake import Lake

VERDICTS = ("right", "wrong")
COLUMNS = ["dt", "design_id", "post", "verdict"]


class FeedbackError(ValueError):
    """A feedback file that cannot be used; the message names the file, the row and what is wrong."""


def read_feedback(lake: Lake, key: str) -> pd.DataFrame:
    """The feedback rows of a CSV or JSON file, columns checked."""
    data = lake.read_bytes(key)
    try:
        frame = pd.read_json(io.BytesIO(data), dtype=str) if key.endswith(".json") else pd.read_csv(
            io.BytesIO(data), dtype=str, keep_default_na=False)  # fmt: skip
    except ValueError as exc:
        raise FeedbackError(f"{lake.uri(key)}: cannot read feedback: {exc}") from exc
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise FeedbackError(f"{lake.uri(key)}: missing column {missing[0]!r} (required: {COLUMNS})")
    frame = frame.fillna("").astype(str).assign(verdict=lambda f: f["verdict"].str.strip().str.lower())
    bad = frame.index[~frame["verdict"].isin(VERDICTS)].tolist()
    if bad:
        raise FeedbackError(
            f"{lake.uri(key)} row {bad[0] + 1}: verdict {frame['verdict'][bad[0]]!r} is not right/wrong"
        )
    return frame


def report_table(lake: Lake, dt: str) -> pd.DataFrame:
    """The newest published winning-designs table of ``dt``."""
    manifests = sorted(k for k in lake.list(f"reports/dt={dt}/") if k.endswith("/manifest.json"))
    if not manifests:
        raise FeedbackError(f"no published report for {dt}")
    newest = max(manifests, key=lambda k: json.loads(lake.read_text(k)).get("published_at", ""))
    return pd.read_parquet(io.BytesIO(lake.read_bytes(re.sub(r"manifest\.json$", "winning_designs.parquet", newest))))


def ingest_feedback(lake: Lake, key: str) -> dict[str, Any]:
    """Turn one feedback file into labelled data (see the module docstring).

    Returns:
        ``rows``, ``pairs`` and ``negatives`` written, and the lake keys of the three files.

    Raises:
        FeedbackError: a bad file, an unknown date, design or post (nothing is written then).
    """
    from include.reports.schema import nested
    from include.trends.categories import category_of

    frame = read_feedback(lake, key)
    tables = {dt: report_table(lake, dt).set_index("design_id") for dt in sorted(set(frame["dt"]))}
    resolved = []
    for i, row in enumerate(frame.itertuples(), start=1):
        table = tables[row.dt]
        if row.design_id not in table.index:
            raise FeedbackError(f"{lake.uri(key)} row {i}: design {row.design_id} is not in the report of {row.dt}")
        design = table.loc[row.design_id]
        posts = {v: e["image_key"] for e in nested(design["evidence"]) for v in (e["post_url"], e["image_key"])}
        if row.post not in posts:
            raise FeedbackError(f"{lake.uri(key)} row {i}: post {row.post} is not evidence of {row.design_id}")
        resolved.append({"dt": row.dt, "design_id": row.design_id, "post": row.post, "verdict": row.verdict,
                         "designer": getattr(row, "designer", ""), "anchor_image": posts[row.post],
                         "design_image": design["image_key"],
                         "category": category_of(design.get("title"), None)})  # fmt: skip
    verdicts = pd.DataFrame(resolved).drop_duplicates(["design_id", "anchor_image", "verdict"])
    digest = sha256_hex(verdicts.to_csv(index=False).encode())[:16]
    right, wrong = verdicts[verdicts["verdict"] == "right"], verdicts[verdicts["verdict"] == "wrong"]
    pairs = right.rename(columns={"design_image": "positive_image", "design_id": "item_id"})[
        ["anchor_image", "positive_image", "item_id", "category"]]  # fmt: skip
    negatives = wrong.rename(columns={"design_image": "negative_image", "design_id": "item_id"})[
        ["anchor_image", "negative_image", "item_id"]]  # fmt: skip
    keys = {"feedback": f"labels/feedback/dt={max(tables)}/{digest}.parquet",
            "pairs": f"labels/pairs/feedback-{digest}.parquet",
            "negatives": f"labels/negatives/feedback-{digest}.parquet"}  # fmt: skip
    lake.write_bytes(keys["feedback"], verdicts.to_parquet(index=False))
    if len(pairs):
        lake.write_bytes(keys["pairs"], pairs.to_parquet(index=False))
    if len(negatives):
        lake.write_bytes(keys["negatives"], negatives.to_parquet(index=False))
    return {"rows": len(verdicts), "pairs": len(pairs), "negatives": len(negatives),
            "files": {k: v for k, v in keys.items() if lake.exists(v)}}  # fmt: skip
