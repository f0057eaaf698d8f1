"""DeepFashion Consumer-to-shop Clothes Retrieval: annotation files to a :class:`LabelledSet`.

Layout (as unpacked from the official release)::

    <root>/Anno/list_bbox_consumer2shop.txt   count, header, then <image> <clothes type> <source type> x1 y1 x2 y2
    <root>/Eval/list_eval_partition.txt       count, header, then <consumer image> <shop image> <item id> <status>
    <root>/img/<CAT>/<SUBCAT>/id_XXXXXXXX/{comsumer,shop}_NN.jpg   (or <root>/Img/img/...)

Source type 1 is a shop image, 2 a consumer image. Every image is cropped to its bounding box when it is read
(the original work never applied them). The category is ``<CAT>/<SUBCAT>`` from the image path.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from training.data.base import FolderSource, LabelledDataError, LabelledSet, sha256_bytes

BBOX_FILE = "Anno/list_bbox_consumer2shop.txt"
PARTITION_FILE = "Eval/list_eval_partition.txt"
BBOX_HEADER = ["image_name", "clothes_type", "source_type", "x_1", "y_1", "x_2", "y_2"]
PARTITION_HEADER = ["image_pair_name_1", "image_pair_name_2", "item_id", "evaluation_status"]


def _read_listing(path: Path, header: list[str]) -> list[list[str]]:
    """Rows of a DeepFashion listing (first line a count, second the entry names)."""
    if not path.is_file():
        raise LabelledDataError(f"DeepFashion annotation missing: {path}")
    lines = path.read_text(encoding="utf-8").splitlines()
    if len(lines) < 2:
        raise LabelledDataError(f"{path}: expected a count line and a header line")
    names = lines[1].split()
    if names != header:
        unknown = [n for n in names if n not in header]
        raise LabelledDataError(f"{path}: unexpected header {names} (unknown columns {unknown}; expected {header})")
    rows = []
    for n, line in enumerate(lines[2:], start=3):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != len(header):
            raise LabelledDataError(f"{path} line {n}: expected {len(header)} fields, got {len(parts)}: {line!r}")
        rows.append(parts)
    return rows


def category_of(image_name: str) -> str:
    """``img/CLOTHING/Blouse/id_1/shop_01.jpg`` -> ``CLOTHING/Blouse``."""
    parts = image_name.split("/")
    return "/".join(parts[1:3]) if len(parts) >= 5 else "unknown"


def load_consumer2shop(root: str | Path, name: str = "deepfashion") -> LabelledSet:
    """Load the Consumer-to-shop benchmark: every image of the partition file with its box, item and split.

    Args:
        root: Folder holding ``Anno/``, ``Eval/`` and ``img/`` (or ``Img/img/``).
        name: Name of the set in logs and item ids.

    Raises:
        LabelledDataError: a missing or malformed annotation file, or an image without bounding box.
    """
    root = Path(root)
    boxes = {}
    for r in _read_listing(root / BBOX_FILE, BBOX_HEADER):
        domain = {"1": "shop", "2": "consumer"}.get(r[2])
        if domain is None:
            raise LabelledDataError(f"{root / BBOX_FILE}: unknown source type {r[2]!r} for {r[0]}")
        boxes[r[0]] = (domain, *(int(v) for v in r[3:7]))
    rows: dict[str, dict] = {}
    for consumer, shop, item, status in _read_listing(root / PARTITION_FILE, PARTITION_HEADER):
        if status not in ("train", "val", "test"):
            raise LabelledDataError(f"{root / PARTITION_FILE}: unknown evaluation status {status!r}")
        for image in (consumer, shop):
            if image not in boxes:
                raise LabelledDataError(f"{root / PARTITION_FILE}: {image} has no bounding box in {BBOX_FILE}")
            listed_domain, x1, y1, x2, y2 = boxes[image]
            rows.setdefault(
                image,
                {"image": image, "item_id": item, "category": category_of(image), "domain": listed_domain,
                 "split": status, "x1": x1, "y1": y1, "x2": x2, "y2": y2},
            )  # fmt: skip
    if not rows:
        raise LabelledDataError(f"{root / PARTITION_FILE}: no image pairs")
    table = pd.DataFrame(list(rows.values()))
    fingerprint = sha256_bytes((root / BBOX_FILE).read_bytes(), (root / PARTITION_FILE).read_bytes())
    return LabelledSet(name, table, FolderSource(root, root / "Img"), fingerprint)
