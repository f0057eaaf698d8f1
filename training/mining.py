"""Triplet mining: the original offline recipe, and online batch-hard / semi-hard mining (the default).

Offline (the original work): for every consumer/shop pair of an item, the consumer photo is the anchor, the shop
photo the positive, and five negatives are drawn - three shop images of *other items of the same category* (hard)
and two of other categories (easy). Items without a consumer photo use their shop photo as anchor (the
consumer-like augmentation makes it a view).

Online: pytorch-metric-learning miners on each M-per-class batch - ``batch_hard`` (hardest positive and negative
per anchor) or ``semihard`` (negatives farther than the positive but within the margin).

Category loss (auxiliary, ``loss.category_weight``): item identity alone does not order the neighbourhood by
category, so a second pytorch-metric-learning loss over the items' categories runs on the same batch embeddings -
a proxy loss by default (one learnt proxy per category, so every batch sees every category), or a batch-hard
triplet loss with a smaller margin.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pandas as pd

from training.config import LossConfig, MiningConfig, instantiate, locate


def offline_triplets(
    table: pd.DataFrame, n_same: int = 3, n_other: int = 2, seed: int = 7, max_pairs_per_item: int = 4
) -> np.ndarray:
    """Mine ``(anchor, positive, negative)`` row-index triplets from a labelled table.

    Args:
        table: Rows with ``item_id``, ``category``, ``domain``.
        n_same: Negatives per pair from other items of the same category (fewer when the category is small;
            the shortfall is taken from other categories).
        n_other: Negatives per pair from other categories.
        seed: Random seed.
        max_pairs_per_item: Cap on consumer/shop pairs per item (DeepFashion items can have dozens).

    Returns:
        An ``(N, 3)`` int64 array.
    """
    rng = np.random.default_rng(seed)
    table = table.reset_index(drop=True)
    shop_rows = table.index[table["domain"] == "shop"].to_numpy()
    if len(shop_rows) == 0:
        shop_rows = table.index.to_numpy()
    shop_item = table.loc[shop_rows, "item_id"].to_numpy()
    shop_cat = table.loc[shop_rows, "category"].to_numpy()
    triplets: list[tuple[int, int, int]] = []
    for item, group in table.groupby("item_id", sort=True):
        consumers = group.index[group["domain"] == "consumer"].to_numpy()
        shops = group.index[group["domain"] == "shop"].to_numpy()
        if len(shops) == 0:
            continue
        if len(consumers) == 0:
            consumers = shops
        pairs = [(a, p) for a in consumers for p in shops]
        if len(pairs) > max_pairs_per_item:
            pairs = [pairs[i] for i in rng.choice(len(pairs), max_pairs_per_item, replace=False)]
        category = group["category"].iloc[0]
        same = shop_rows[(shop_cat == category) & (shop_item != item)]
        other = shop_rows[(shop_cat != category) & (shop_item != item)]
        for a, p in pairs:
            k_same = min(n_same, len(same))
            k_other = min(n_other + (n_same - k_same), len(other))
            negs = []
            if k_same:
                negs += rng.choice(same, k_same, replace=False).tolist()
            if k_other:
                negs += rng.choice(other, k_other, replace=False).tolist()
            triplets += [(int(a), int(p), int(n)) for n in negs]
    return np.asarray(triplets, np.int64).reshape(-1, 3)


def make_miner(cfg: MiningConfig, margin: float) -> Any:
    """The online miner a config names (``batch_hard``, ``semihard``, ``all``, or a ``_target_`` block)."""
    from pytorch_metric_learning import miners

    if isinstance(cfg.miner, dict):
        return instantiate(cfg.miner)
    if cfg.miner == "batch_hard":
        return miners.BatchHardMiner()
    if cfg.miner in ("semihard", "hard", "all", "easy"):
        return miners.TripletMarginMiner(margin=margin, type_of_triplets=cfg.miner)
    raise ValueError(f"unknown miner {cfg.miner!r} (batch_hard, semihard, hard, all, easy or a _target_ block)")


def make_loss(margin: float, target: str | None = None, args: dict | None = None) -> Any:
    """Triplet margin loss on the Euclidean distance of unit vectors (the original: margin 0.3)."""
    if target:
        return instantiate({"_target_": target, **(args or {})})
    from pytorch_metric_learning.losses import TripletMarginLoss

    return TripletMarginLoss(margin=margin, **(args or {}))


def make_category_loss(cfg: LossConfig, num_categories: int, embedding_dim: int) -> tuple[Any, Any]:
    """The auxiliary category loss and its miner (``None`` for proxy losses), or ``(None, None)`` when disabled.

    Disabled when ``category_weight`` is 0 or the training data has fewer than two categories.
    """
    if cfg.category_weight <= 0 or num_categories < 2:
        return None, None
    from pytorch_metric_learning import losses, miners

    spec = cfg.category_loss
    if isinstance(spec, dict):
        params = inspect.signature(locate(spec["_target_"])).parameters
        extra = {"num_classes": num_categories, "embedding_size": embedding_dim}
        return instantiate(spec, **{k: v for k, v in extra.items() if k in params and k not in spec}), None
    if spec == "proxy_anchor":
        return losses.ProxyAnchorLoss(num_categories, embedding_dim, margin=cfg.category_margin), None
    if spec == "normalized_softmax":
        return losses.NormalizedSoftmaxLoss(num_categories, embedding_dim), None
    return losses.TripletMarginLoss(margin=cfg.category_margin), miners.BatchHardMiner()
