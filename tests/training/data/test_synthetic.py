from __future__ import annotations

import io

from PIL import Image

from training.data import load_styles, synthetic_designs, with_consumer_views


def test_synthetic_designs_pair_a_packshot_with_consumer_views():
    ls = synthetic_designs(n_items=6, views=2, seed=3, size=64, val_fraction=0.5)
    assert len(ls) == 18
    per_item = ls.table.groupby("item_id")["domain"].apply(sorted)
    assert all(v == ["consumer", "consumer", "shop"] for v in per_item)
    img = Image.open(io.BytesIO(ls.source.read(ls.table.at[1, "image"])))
    assert img.size == (64, 64)
    again = synthetic_designs(n_items=6, views=2, seed=3, size=64, val_fraction=0.5)
    assert again.source.read("d00002/consumer_1.jpg") == ls.source.read("d00002/consumer_1.jpg")


def test_consumer_views_of_real_photos(styles_root):
    ls = with_consumer_views(load_styles(styles_root, val_fraction=0.3), views=1, seed=1, size=48)
    assert (ls.table["domain"] == "consumer").sum() == 12
    view = ls.table[ls.table["domain"] == "consumer"].iloc[0]
    shop = ls.table[(ls.table["domain"] == "shop") & (ls.table["item_id"] == view["item_id"])].iloc[0]
    assert view["split"] == shop["split"] and view["category"] == shop["category"]
    assert Image.open(io.BytesIO(ls.source.read(view["image"]))).size == (48, 48)
    assert ls.source.read(shop["image"]) == (styles_root / "images" / f"{shop['item_id']}.jpg").read_bytes()
