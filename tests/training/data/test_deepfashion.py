from __future__ import annotations

import pytest

from training.data import LabelledDataError, load_consumer2shop
from training.datasets import ImageDataset
from training.transforms import eval_transform


def test_consumer2shop_rows_splits_domains_and_categories(deepfashion_root):
    ls = load_consumer2shop(deepfashion_root)
    assert len(ls) == 12
    assert ls.summary() == {"test/consumer": 1, "test/shop": 1, "train/consumer": 3, "train/shop": 3,
                            "val/consumer": 2, "val/shop": 2, "items": 6}  # fmt: skip
    row = ls.table.set_index("image").loc["img/CLOTHING/Blouse/id_00000001/comsumer_01.jpg"]
    assert (row["domain"], row["item_id"], row["category"]) == ("consumer", "id_00000001", "CLOTHING/Blouse")
    assert ls.table.set_index("image").loc["img/TROUSERS/Pants/id_00000003/shop_01.jpg", "domain"] == "shop"


def test_images_are_cropped_to_their_bounding_box(deepfashion_root):
    import numpy as np

    from tests.training.conftest import COLOURS

    ls = load_consumer2shop(deepfashion_root)
    data = ImageDataset(ls.table, ls.source, eval_transform("tf_efficientnet_lite0", 32))
    img = data.image(0)  # item 0: outer colour COLOURS[0], box 8,6 -> 40,38 filled with COLOURS[-1]
    assert img.size == (32, 32)
    mean = np.asarray(img, float).reshape(-1, 3).mean(0)
    assert np.abs(mean - COLOURS[-1]).max() < 25
    assert np.abs(mean - COLOURS[0]).max() > 100
    x, _ = data[0]
    assert tuple(x.shape) == (3, 32, 32)


def test_missing_annotation_and_unknown_header_are_named(deepfashion_root):
    part = deepfashion_root / "Eval/list_eval_partition.txt"
    text = part.read_text()
    part.write_text(text.replace("evaluation_status", "status_of_eval"))
    with pytest.raises(LabelledDataError, match=r"list_eval_partition.txt: unexpected header .*status_of_eval"):
        load_consumer2shop(deepfashion_root)
    part.unlink()
    with pytest.raises(LabelledDataError, match="annotation missing: .*list_eval_partition.txt"):
        load_consumer2shop(deepfashion_root)
