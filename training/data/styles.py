"""A category-labelled photo folder in the ``styles.csv`` layout (Kaggle "Fashion Product Images").

``<root>/styles.csv`` has at least ``id`` and the category column (default ``articleType``);
``<root>/images/<id>.jpg`` is the photo. Every photo is a shop image of its own item; consumer views of them come
from :func:`training.data.synthetic.with_consumer_views`. Other columns (gender, baseColour, ...) are kept out.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from training.data.base import FolderSource, LabelledDataError, LabelledSet, hash_split, sha256_bytes


def load_styles(
    root: str | Path,
    category_column: str = "articleType",
    val_fraction: float = 0.1,
    test_fraction: float = 0.0,
    limit: int | None = None,
    name: str = "styles",
) -> LabelledSet:
    """Load the photos listed in ``styles.csv`` whose ``images/<id>.jpg`` exists.

    Args:
        root: The folder.
        category_column: Column giving the category.
        val_fraction: Share of items in the validation split (stable hash of the id).
        test_fraction: Share of items in the test split.
        limit: Keep only the first ``limit`` photos (by id order) - for quick runs.
        name: Name of the set.

    Raises:
        LabelledDataError: no styles.csv, missing id/category column, or no listed photo exists.
    """
    root = Path(root)
    path = root / "styles.csv"
    if not path.is_file():
        raise LabelledDataError(f"{root}: no styles.csv")
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        columns = reader.fieldnames or []
        for col in ("id", category_column):
            if col not in columns:
                raise LabelledDataError(f"{path}: missing column {col!r} (has {columns})")
        rows = [(r["id"], r[category_column]) for r in reader if r.get("id")]
    listed = len(rows)
    rows = [(i, c) for i, c in rows if (root / "images" / f"{i}.jpg").is_file()]
    if not rows:
        raise LabelledDataError(f"{path}: none of its {listed} rows has its images/<id>.jpg")
    rows.sort(key=lambda r: (len(r[0]), r[0]))
    if limit:
        rows = rows[:limit]
    table = pd.DataFrame(
        {"image": [f"images/{i}.jpg" for i, _ in rows], "item_id": [i for i, _ in rows],
         "category": [c or "unknown" for _, c in rows], "domain": "shop"}
    )  # fmt: skip
    table["split"] = hash_split(table["item_id"], val_fraction, test_fraction)
    names = sorted(p.name + str(p.stat().st_size) for p in (root / "images").glob("*.jpg"))
    fingerprint = sha256_bytes(path.read_bytes(), "\n".join(names).encode(), str(limit).encode())
    return LabelledSet(name, table, FolderSource(root), fingerprint)
