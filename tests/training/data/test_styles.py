from __future__ import annotations

import pytest

from training.data import LabelledDataError, load_styles


def test_styles_folder_gives_category_labelled_shop_photos(styles_root):
    ls = load_styles(styles_root, val_fraction=0.25)
    assert len(ls) == 12  # the row without an image is left out
    assert set(ls.table["domain"]) == {"shop"}
    assert ls.table.set_index("item_id").loc["1001", "category"] == "Shirts"
    assert set(ls.table["split"]) <= {"train", "val"}
    assert load_styles(styles_root, val_fraction=0.25).table.equals(ls.table)  # stable split
    assert len(load_styles(styles_root, limit=5)) == 5


def test_styles_errors_name_the_file_and_column(styles_root, tmp_path):
    with pytest.raises(LabelledDataError, match="missing column 'colour'"):
        load_styles(styles_root, category_column="colour")
    with pytest.raises(LabelledDataError, match="no styles.csv"):
        load_styles(tmp_path / "nowhere")
