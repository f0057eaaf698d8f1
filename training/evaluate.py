"""Evaluate an embedder on a split of a labelled set: consumer-to-shop Recall@K and category Recall@1.

The vectors scored are the ones the embedding service would store: the same square fit, and with a
``colour_weight`` the same colour histogram appended (:func:`include.core.imagefit.with_colour`), so the promotion
gate compares what serving would search with.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd
import torch

from include.core.imagefit import with_colour
from training.backbones import resolve_device
from training.data.base import ImageSource, LabelledDataError, LabelledSet
from training.datasets import ImageDataset, loader
from training.metrics import category_recall_at_1, recall_at_k
from training.transforms import ServedTransform

log = logging.getLogger(__name__)
KS = (1, 5, 10, 20)


def embed_table(
    model: torch.nn.Module,
    table: pd.DataFrame,
    source: ImageSource,
    model_name: str,
    size: int,
    batch_size: int = 64,
    device: str = "auto",
    workers: int = 0,
    colour_weight: float = 0.0,
    fit: str = "pad",
) -> tuple[np.ndarray, float]:
    """Served unit vectors of every row (the service's square fit, its colour histogram appended with
    ``colour_weight`` > 0), and the throughput in images/s."""
    device = resolve_device(device)
    data = ImageDataset(table, source, ServedTransform(model_name, size, fit))
    model = model.to(device).eval().to(memory_format=torch.channels_last)
    out, hists = [], []
    start = time.perf_counter()
    with torch.inference_mode():
        for (images, hist), _ in loader(data, batch_size, workers):
            x = images.to(device, non_blocking=True).contiguous(memory_format=torch.channels_last)
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.startswith("cuda")):
                out.append(model(x).float().cpu())
            hists.append(hist)
    vectors = with_colour(torch.cat(out).numpy(), torch.cat(hists).numpy(), colour_weight)
    seconds = time.perf_counter() - start
    return vectors, len(table) / max(seconds, 1e-9)


def evaluate(
    model: torch.nn.Module,
    ls: LabelledSet,
    splits: tuple[str, ...] = ("val",),
    model_name: str = "tf_efficientnet_lite0",
    size: int = 224,
    batch_size: int = 64,
    device: str = "auto",
    workers: int = 0,
    colour_weight: float = 0.0,
    fit: str = "pad",
) -> dict[str, float]:
    """Consumer-to-shop Recall@1/5/10/20 (consumer queries vs the shop gallery of ``splits``) and category
    Recall@1 (leave-one-out over the shop images), on the vectors serving would store (:func:`embed_table`).

    Raises:
        LabelledDataError: the split has no consumer query or no shop image.
    """
    table = ls.split(*splits)
    queries = table[table["domain"] == "consumer"]
    gallery = table[table["domain"] == "shop"]
    if queries.empty or gallery.empty:
        raise LabelledDataError(
            f"{ls.name}: split {'+'.join(splits)} has {len(queries)} consumer and {len(gallery)} shop images; "
            "evaluation needs both (add consumer_views or pairs)"
        )
    vectors, ips = embed_table(
        model, table, ls.source, model_name, size, batch_size, device, workers, colour_weight, fit
    )
    is_q = (table["domain"] == "consumer").to_numpy()
    metrics = recall_at_k(vectors[is_q], queries["item_id"], vectors[~is_q], gallery["item_id"], KS)
    if len(gallery) >= 2:
        metrics["category_recall@1"] = category_recall_at_1(vectors[~is_q], gallery["category"])
    metrics.update(queries=int(len(queries)), gallery=int(len(gallery)), eval_img_per_s=round(ips, 1),
                   colour_weight=float(colour_weight))  # fmt: skip
    log.info("evaluation on %s: %s", "+".join(splits), metrics)
    return metrics
