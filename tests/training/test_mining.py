from __future__ import annotations

import pandas as pd
import torch

from training.config import MiningConfig
from training.mining import make_miner, offline_triplets


def _table() -> pd.DataFrame:
    rows = []
    for i in range(7):
        cat = "tops" if i < 4 else "pants"
        rows += [(f"c{i}", f"item{i}", cat, "consumer"), (f"s{i}", f"item{i}", cat, "shop")]
    return pd.DataFrame(rows, columns=["image", "item_id", "category", "domain"])


def test_offline_recipe_three_same_category_and_two_other_negatives_per_pair():
    table = _table()
    triplets = offline_triplets(table, n_same=3, n_other=2, seed=1)
    assert len(triplets) == 7 * 5
    for a in table.index[table["domain"] == "consumer"]:
        mine = triplets[triplets[:, 0] == a]
        assert len(mine) == 5
        assert set(table.loc[mine[:, 1], "item_id"]) == {table.at[a, "item_id"]}
        assert set(table.loc[mine[:, 1], "domain"]) == {"shop"}
        negs = table.loc[mine[:, 2]]
        assert (negs["domain"] == "shop").all() and (negs["item_id"] != table.at[a, "item_id"]).all()
        same = (negs["category"] == table.at[a, "category"]).sum()
        # tops have 3 other tops; pants only 2 other pants, the shortfall comes from other categories
        assert same == (3 if table.at[a, "category"] == "tops" else 2)
        assert len(set(mine[:, 2])) == 5


def test_batch_hard_picks_the_hardest_negative_and_semihard_respects_the_margin():
    emb = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.9, 0.436], [-1.0, 0.0]])
    emb = torch.nn.functional.normalize(emb, dim=1)
    labels = torch.tensor([0, 0, 1, 1])
    a, p, n = make_miner(MiningConfig(miner="batch_hard"), 0.3)(emb, labels)
    hard = {int(x): (int(y), int(z)) for x, y, z in zip(a, p, n, strict=True)}
    assert hard[0] == (1, 2)  # the only positive, and the negative closest to the anchor
    a, p, n = make_miner(MiningConfig(miner="semihard"), 1.0)(emb, labels)
    d = torch.cdist(emb, emb)
    assert len(a) > 0
    assert ((d[a, p] < d[a, n]) & (d[a, n] < d[a, p] + 1.0)).all()


def test_miner_injected_by_target():
    miner = make_miner(MiningConfig(miner={"_target_": "pytorch_metric_learning.miners.MultiSimilarityMiner"}), 0.3)
    assert type(miner).__name__ == "MultiSimilarityMiner"


def test_category_loss_choices_and_disabled_cases():
    from pytorch_metric_learning import losses, miners

    from training.config import LossConfig
    from training.mining import make_category_loss

    loss, miner = make_category_loss(LossConfig(), 5, 16)  # the default: batch-hard triplet over categories
    assert isinstance(loss, losses.TripletMarginLoss) and loss.margin == 0.1
    assert isinstance(miner, miners.BatchHardMiner)
    loss, miner = make_category_loss(LossConfig(category_loss="proxy_anchor", category_margin=0.05), 5, 16)
    assert isinstance(loss, losses.ProxyAnchorLoss) and miner is None
    assert loss.proxies.shape == (5, 16) and loss.margin == 0.05
    target = {"_target_": "pytorch_metric_learning.losses.NormalizedSoftmaxLoss", "temperature": 0.1}
    loss, _ = make_category_loss(LossConfig(category_loss=target), 3, 8)
    assert isinstance(loss, losses.NormalizedSoftmaxLoss) and loss.W.shape == (8, 3) and loss.temperature == 0.1
    assert make_category_loss(LossConfig(category_weight=0), 5, 16) == (None, None)
    assert make_category_loss(LossConfig(), 1, 16) == (None, None)
