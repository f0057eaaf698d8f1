from __future__ import annotations

import pandas as pd
import pytest

from training.data import LabelledDataError, load_pairs
from training.data.base import verify_images


def test_pairs_files_become_consumer_and_shop_rows(pairs_lake):
    pairs_lake.write_bytes("images/full/extra.jpg", pairs_lake.read_bytes("images/full/consumer1.jpg"))
    pairs_lake.write_text(
        "labels/pairs/batch2.csv",
        "anchor_image,positive_image,item_id,category\n"
        f"{pairs_lake.uri('images/full/extra.jpg')},images/full/shop0.jpg,sku-0,cat0\n",  # a URI inside the lake
    )
    ls = load_pairs(pairs_lake)
    assert len(ls) == 17  # 8 pairs x 2 images, plus one more consumer photo of sku-0 (shop0 listed once)
    sku0 = ls.table[ls.table["item_id"] == "sku-0"]
    assert sorted(sku0["domain"]) == ["consumer", "consumer", "shop"]
    assert "images/full/extra.jpg" in set(sku0["image"])
    assert set(ls.table.loc[ls.table["item_id"] == "sku-7", "split"]) == {"val"}
    assert ls.source.read("images/full/shop3.jpg")[:2] == b"\xff\xd8"


def test_unknown_column_is_named_with_its_file(pairs_lake):
    pairs_lake.write_text("labels/pairs/typo.csv", "anchor_image,positive_image,item_id,categroy\na,b,c,d\n")
    with pytest.raises(LabelledDataError, match=r"typo.csv: unknown column 'categroy'"):
        load_pairs(pairs_lake)


def test_missing_column_and_empty_cell_are_named(pairs_lake):
    pairs_lake.write_text("labels/pairs/short.csv", "anchor_image,positive_image,item_id\na,b,c\n")
    with pytest.raises(LabelledDataError, match=r"short.csv: missing column 'category'"):
        load_pairs(pairs_lake)
    pairs_lake.write_text("labels/pairs/short.csv", "anchor_image,positive_image,item_id,category\na,,c,d\n")
    with pytest.raises(LabelledDataError, match=r"short.csv row 1: empty 'positive_image'"):
        load_pairs(pairs_lake)


def test_no_pairs_file_is_an_error(tmp_path):
    from include.core.lake import LocalLake

    with pytest.raises(LabelledDataError, match="no pairs files"):
        load_pairs(LocalLake(tmp_path / "empty"))


def test_missing_and_corrupt_images_fail_with_their_rows_or_are_counted_skips(pairs_lake):
    pairs_lake.delete_prefix("images/full/shop2.jpg")
    pairs_lake.write_bytes("images/full/consumer5.jpg", b"\xff\xd8 not really a jpeg")
    ls = load_pairs(pairs_lake)
    with pytest.raises(LabelledDataError, match=r"2 of 16 images .*row \d+: .*shop2.jpg.*consumer5.jpg"):
        verify_images(ls, "decode", max_bad_fraction=0.05)
    kept = verify_images(load_pairs(pairs_lake), "decode", max_bad_fraction=0.2)
    assert len(kept) == 14
    assert not kept.table["image"].isin(["images/full/shop2.jpg", "images/full/consumer5.jpg"]).any()
    with pytest.raises(LabelledDataError, match=r"1 of 16 .*shop2.jpg \(missing\)"):
        verify_images(load_pairs(pairs_lake), "exists")


def test_parquet_with_bad_split_value(pairs_lake):
    df = pd.DataFrame([{"anchor_image": "a", "positive_image": "b", "item_id": "x", "category": "c", "split": "dev"}])
    pairs_lake.write_bytes("labels/pairs/bad.parquet", df.to_parquet())
    with pytest.raises(LabelledDataError, match=r"bad.parquet row 1: split 'dev'"):
        load_pairs(pairs_lake)
