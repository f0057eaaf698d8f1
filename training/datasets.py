"""torch Datasets over a :class:`~training.data.base.LabelledSet`: single images (online mining, evaluation) and
offline triplets; the M-per-class sampler and the DataLoaders built from a config."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, Dataset

from training.data.base import BBOX, ImageSource, LabelledDataError, decode_image, rng_for


class ImageDataset(Dataset):
    """Rows of a labelled table as ``(image tensor, label index)``.

    Shop images are turned consumer-like with probability ``consumer_p`` (``train`` only); others get the
    light transform. Labels are item indices (``labels``), stable for one table.
    """

    def __init__(
        self, table: pd.DataFrame, source: ImageSource, transform, consumer_transform=None, consumer_p: float = 0.0
    ) -> None:
        if len(table) == 0:
            raise LabelledDataError("empty split: no images to load")
        self.table = table.reset_index(drop=True)
        self.source = source
        self.transform = transform
        self.consumer_transform = consumer_transform
        self.consumer_p = consumer_p
        items = {item: n for n, item in enumerate(sorted(self.table["item_id"].unique()))}
        self.labels = self.table["item_id"].map(items).to_numpy(np.int64)
        self.has_bbox = all(c in self.table.columns for c in BBOX)

    def __len__(self) -> int:
        return len(self.table)

    def image(self, i: int):
        """The decoded (cropped) PIL image of row ``i``; errors name the file and the row."""
        row = self.table.iloc[i]
        bbox = tuple(row[c] for c in BBOX) if self.has_bbox else None
        where = f"{self.source.describe(row['image'])} (row {i})"
        return decode_image(self.source.read(row["image"]), where, bbox)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        img = self.image(i)
        if (
            self.consumer_transform is not None
            and self.table.at[i, "domain"] == "shop"
            and torch.rand(()).item() < self.consumer_p
        ):
            return self.consumer_transform(img), int(self.labels[i])
        return self.transform(img), int(self.labels[i])


class TripletDataset(Dataset):
    """Offline triplets ``(anchor, positive, negative)`` of row indices into an :class:`ImageDataset`."""

    def __init__(self, images: ImageDataset, triplets: np.ndarray) -> None:
        if len(triplets) == 0:
            raise LabelledDataError("no triplets could be mined: every item needs a positive and a negative")
        self.images = images
        self.triplets = triplets

    def __len__(self) -> int:
        return len(self.triplets)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        a, p, n = self.triplets[i]
        return self.images[a][0], self.images[p][0], self.images[n][0]


MISSING_CATEGORIES = ("", "unknown", "none", "nan")


def item_categories(table: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Category index of every item label of :class:`ImageDataset` (same sorted item order), -1 without one.

    An item's category is its first labelled row's; empty, ``unknown`` or missing categories are -1 (ignored by
    the category loss).

    Returns:
        ``(item -> category index array, category names)``.
    """
    cats = table.groupby("item_id", sort=True)["category"].agg(
        lambda c: next((str(v) for v in c if pd.notna(v) and str(v).strip().lower() not in MISSING_CATEGORIES), "")
    )
    names = sorted(c for c in cats.unique() if c)
    index = {c: n for n, c in enumerate(names)}
    return np.asarray([index.get(c, -1) for c in cats], np.int64), names


def loader(dataset: Dataset, batch_size: int, workers: int, shuffle: bool = False, sampler=None, seed: int = 7):
    """A DataLoader with seeded shuffling and (when workers > 0) persistent workers."""
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle if sampler is None else False,
        sampler=sampler,
        num_workers=workers,
        persistent_workers=workers > 0,
        pin_memory=torch.cuda.is_available(),
        drop_last=sampler is not None or shuffle,
        generator=generator,
    )


def m_per_class_sampler(labels: np.ndarray, m: int, batch_size: int, seed: int = 7):
    """pytorch-metric-learning's MPerClassSampler (``m`` images per item per batch), one epoch = one pass."""
    from pytorch_metric_learning.samplers import MPerClassSampler

    n_items = len(np.unique(labels))
    batch_size = max(m, batch_size - batch_size % m)
    if n_items * m < batch_size:
        raise LabelledDataError(
            f"{n_items} items x m_per_class {m} cannot fill a batch of {batch_size}: add data or lower batch_size"
        )
    torch.manual_seed(seed)
    return MPerClassSampler(labels, m, batch_size=batch_size, length_before_new_iter=max(len(labels), batch_size))


__all__ = ["ImageDataset", "TripletDataset", "item_categories", "loader", "m_per_class_sampler", "rng_for"]
