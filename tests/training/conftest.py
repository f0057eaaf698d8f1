"""Tiny labelled sets in every supported format, generated per test (no binary fixtures in the repository)."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

COLOURS = [(200, 30, 30), (30, 160, 40), (40, 60, 200), (220, 200, 40), (150, 40, 170), (20, 170, 180)]


def jpeg(colour, size=(64, 48), box=None, inner=(255, 255, 255)) -> bytes:
    """A solid JPEG; with ``box`` (x1, y1, x2, y2) that region is filled with ``inner``."""
    img = Image.new("RGB", size, colour)
    if box:
        img.paste(inner, box)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


@pytest.fixture
def deepfashion_root(tmp_path) -> Path:
    """Consumer-to-shop layout: 6 items over 2 categories, one consumer and one shop photo each, 3 splits."""
    root = tmp_path / "c2s"
    items = [("CLOTHING/Blouse", "id_00000001", "train"), ("CLOTHING/Blouse", "id_00000002", "train"),
             ("TROUSERS/Pants", "id_00000003", "train"), ("TROUSERS/Pants", "id_00000004", "val"),
             ("CLOTHING/Blouse", "id_00000005", "val"), ("TROUSERS/Pants", "id_00000006", "test")]  # fmt: skip
    bbox_lines, part_lines = [], []
    for n, (cat, item, split) in enumerate(items):
        for kind, src in (("comsumer_01", 2), ("shop_01", 1)):
            name = f"img/{cat}/{item}/{kind}.jpg"
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            box = (8, 6, 40, 38)
            path.write_bytes(jpeg(COLOURS[n], (64, 48), box, COLOURS[-1 - n]))
            bbox_lines.append(f"{name} {1 if cat.startswith('CLOTHING') else 2} {src} {' '.join(map(str, box))}")
        part_lines.append(f"img/{cat}/{item}/comsumer_01.jpg img/{cat}/{item}/shop_01.jpg {item} {split}")
    (root / "Anno").mkdir()
    (root / "Eval").mkdir()
    header = "image_name clothes_type source_type x_1 y_1 x_2 y_2"
    (root / "Anno/list_bbox_consumer2shop.txt").write_text("\n".join([str(len(bbox_lines)), header, *bbox_lines]))
    header = "image_pair_name_1 image_pair_name_2 item_id evaluation_status"
    (root / "Eval/list_eval_partition.txt").write_text("\n".join([str(len(part_lines)), header, *part_lines]))
    return root


@pytest.fixture
def styles_root(tmp_path) -> Path:
    """A styles.csv folder: 12 photos of 3 article types (one listed row has no image)."""
    root = tmp_path / "styles"
    (root / "images").mkdir(parents=True)
    rows = ["id,gender,masterCategory,subCategory,articleType,baseColour,season,year,usage,productDisplayName"]
    for i in range(12):
        kind = ("Tshirts", "Shirts", "Jeans")[i % 3]
        rows.append(f"{1000 + i},Men,Apparel,Topwear,{kind},Red,Fall,2011,Casual,Item {i}")
        img = Image.new("RGB", (80, 80), (250, 250, 250))
        img.paste(COLOURS[i % len(COLOURS)], (20 + i % 3 * 5, 15, 60, 70))
        img.save(root / "images" / f"{1000 + i}.jpg", quality=90)
    rows.append("9999,Men,Apparel,Topwear,Tshirts,Red,Fall,2011,Casual,no image")
    (root / "styles.csv").write_text("\n".join(rows) + "\n")
    return root


@pytest.fixture
def pairs_lake(tmp_path):
    """A lake with 8 consumer/shop pairs (4 categories) in labels/pairs/batch1.parquet, explicit splits."""
    from include.core.lake import LocalLake

    lake = LocalLake(tmp_path / "lake")
    rows = []
    for i in range(8):
        for kind in ("consumer", "shop"):
            lake.write_bytes(f"images/full/{kind}{i}.jpg", jpeg(COLOURS[i % 6], (56, 56), (10, 10, 30, 30)))
        split = "val" if i >= 6 else "train"
        rows.append({"anchor_image": f"images/full/consumer{i}.jpg", "positive_image": f"images/full/shop{i}.jpg",
                     "item_id": f"sku-{i}", "category": f"cat{i % 4}", "split": split})  # fmt: skip
    buf = io.BytesIO()
    pd.DataFrame(rows).to_parquet(buf)
    lake.write_bytes("labels/pairs/batch1.parquet", buf.getvalue())
    return lake
