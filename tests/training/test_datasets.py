from __future__ import annotations

import numpy as np
import pandas as pd

from training.datasets import item_categories, m_per_class_sampler


def test_item_categories_follow_the_item_labels_and_mark_missing_ones():
    table = pd.DataFrame({
        "item_id": ["b", "a", "c", "a", "d", "e"],
        "category": ["Shirts", "Jeans", "unknown", "Jeans", None, "Shirts"],
    })  # fmt: skip
    cats, names = item_categories(table)
    assert names == ["Jeans", "Shirts"]
    assert cats.tolist() == [0, 1, -1, -1, 1]  # items a, b, c, d, e (the ImageDataset label order)


def test_m_per_class_batches_mix_categories():
    """The sampler draws items, not categories: every batch holds several categories for the category loss."""
    items = np.repeat(np.arange(20), 4)
    cats, _ = item_categories(pd.DataFrame({"item_id": items, "category": [f"c{i % 5}" for i in items]}))
    sampler = m_per_class_sampler(items, 4, 16, seed=3)
    batches = np.asarray(list(sampler)).reshape(-1, 16)
    per_batch = [len(np.unique(cats[items[b]])) for b in batches]
    assert len(batches) == 5 and min(per_batch) >= 2 and np.mean(per_batch) >= 2.5
