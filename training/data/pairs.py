"""The generic pairs files in the lake: ``labels/pairs/*.parquet`` or ``*.csv``, appendable by users and feedback.

One row per consumer/shop pair::

    anchor_image    lake key (or URI inside the lake) of the consumer ("street") photo
    positive_image  lake key of the shop photo of the same item
    item_id         the item both show
    category        its category
    split           optional: train | val | test (else a stable split by hash of item_id)

Any other column is refused with an error naming the file and the column, so a typo never silently drops
labels. Several files are concatenated in key order; a pair listed twice counts once.
"""

from __future__ import annotations

import io

import pandas as pd

from training.data.base import LabelledDataError, LabelledSet, LakeSource, hash_split, sha256_bytes

PAIRS_PREFIX = "labels/pairs/"
REQUIRED = ["anchor_image", "positive_image", "item_id", "category"]
OPTIONAL = ["split"]


def read_pairs_file(lake, key: str) -> pd.DataFrame:
    """One pairs file, its columns checked.

    Raises:
        LabelledDataError: unreadable file, unknown or missing columns, empty cells, bad split values.
    """
    data = lake.read_bytes(key)
    try:
        if key.endswith(".parquet"):
            df = pd.read_parquet(io.BytesIO(data))
        else:
            df = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    except Exception as exc:
        raise LabelledDataError(f"{lake.uri(key)}: cannot read pairs file: {exc}") from exc
    unknown = [c for c in df.columns if c not in REQUIRED + OPTIONAL]
    if unknown:
        raise LabelledDataError(
            f"{lake.uri(key)}: unknown column {unknown[0]!r} (all unknown: {unknown}; allowed: {REQUIRED + OPTIONAL})"
        )
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise LabelledDataError(f"{lake.uri(key)}: missing column {missing[0]!r} (required: {REQUIRED})")
    df = df.astype({c: str for c in df.columns})
    for col in REQUIRED:
        empty = df.index[df[col].str.strip().isin(["", "nan", "None"])].tolist()
        if empty:
            raise LabelledDataError(f"{lake.uri(key)} row {empty[0] + 1}: empty {col!r}")
    if "split" in df.columns:
        bad = df.index[~df["split"].isin(["train", "val", "test"])].tolist()
        if bad:
            value = df["split"][bad[0]]
            raise LabelledDataError(f"{lake.uri(key)} row {bad[0] + 1}: split {value!r} is not train/val/test")
    return df


def _key(lake, ref: str) -> str:
    root = lake.uri("").rstrip("/") + "/"
    return lake.key_of(ref) if ref.startswith(root) else ref


def load_pairs(lake, prefix: str = PAIRS_PREFIX, val_fraction: float = 0.1, name: str = "pairs") -> LabelledSet:
    """Every pairs file under ``prefix`` as one :class:`LabelledSet` of consumer and shop images.

    Raises:
        LabelledDataError: no pairs file, or a bad one (see :func:`read_pairs_file`).
    """
    keys = [k for k in lake.list(prefix) if k.endswith((".parquet", ".csv"))]
    if not keys:
        raise LabelledDataError(f"no pairs files (*.parquet, *.csv) under {lake.uri(prefix)}")
    frames, digests = [], []
    for key in keys:
        frames.append(read_pairs_file(lake, key))
        digests.append(key.encode() + lake.read_bytes(key))
    pairs = pd.concat(frames, ignore_index=True).drop_duplicates(["anchor_image", "positive_image"])
    if "split" not in pairs.columns:
        pairs["split"] = None
    auto = hash_split(pairs["item_id"], val_fraction)
    pairs["split"] = pairs["split"].where(pairs["split"].isin(["train", "val", "test"]), auto)
    rows = []
    for p in pairs.itertuples():
        rows.append((_key(lake, p.anchor_image), p.item_id, p.category, "consumer", p.split))
        rows.append((_key(lake, p.positive_image), p.item_id, p.category, "shop", p.split))
    table = pd.DataFrame(rows, columns=["image", "item_id", "category", "domain", "split"])
    table = table.drop_duplicates(["image", "domain"]).reset_index(drop=True)
    return LabelledSet(name, table, LakeSource(lake), sha256_bytes(*digests))
