from __future__ import annotations

import numpy as np
import pytest
import torch

from training.config import TrainConfig
from training.train import build_module

ITEM_CATEGORY = np.array([0, 0, 1, 1, -1])  # 5 items, 2 categories, the last without one


def _module(weight: float, loss: str = "proxy_anchor", item_category=ITEM_CATEGORY):
    cfg = TrainConfig.model_validate({
        "model": {"backbone": "resnet10t", "pretrained": False, "embedding_dim": 16},
        "loss": {"category_weight": weight, "category_loss": loss},
    })  # fmt: skip
    torch.manual_seed(0)
    return build_module(cfg, item_category)


def _batch():
    torch.manual_seed(1)
    return torch.rand(10, 3, 32, 32), torch.arange(5).repeat_interleave(2)


@pytest.mark.parametrize("loss", ["proxy_anchor", "triplet"])
def test_total_loss_is_item_loss_plus_weighted_category_loss(loss):
    module = _module(0.5, loss)
    module.eval()  # deterministic forward for the comparison
    images, labels = _batch()
    total, n = module.compute_loss((images, labels))
    emb = module(images)
    item = module.loss_fn(emb, labels, module.miner(emb, labels))
    cats = torch.as_tensor(ITEM_CATEGORY)[labels]
    keep = cats >= 0
    cat = module.category_loss(emb[keep], cats[keep], module.category_miner(emb[keep], cats[keep])
                               if module.category_miner else None)  # fmt: skip
    assert n > 0 and float(cat.detach()) > 0
    assert torch.allclose(total, item + 0.5 * cat, atol=1e-5)
    assert set(module.last_losses) == {"item_loss", "category_loss"}


def test_zero_weight_or_no_categories_is_the_item_loss_alone():
    for module in (_module(0.0), _module(0.5, item_category=None)):
        assert module.category_loss is None and module.category_weight == 0
        module.eval()
        images, labels = _batch()
        total, _ = module.compute_loss((images, labels))
        emb = module(images)
        assert torch.allclose(total, module.loss_fn(emb, labels, module.miner(emb, labels)))
        assert set(module.last_losses) == {"item_loss"}


def test_category_loss_decreases_when_trained():
    module = _module(1.0)
    module.train()
    images, labels = _batch()
    opt = torch.optim.Adam([{"params": module.net.parameters(), "lr": 1e-3},
                            {"params": module.category_loss.parameters(), "lr": 1e-2}])  # fmt: skip
    with torch.no_grad():
        first = module(images)
    seen = []
    for _ in range(4):
        loss, _ = module.compute_loss((images, labels))
        if not seen:  # proxies start at each category's mean embedding of its first batch, not at random
            assert module.proxy_seen.tolist() == [True, True]
            for c, rows in ((0, slice(0, 4)), (1, slice(4, 8))):
                mean = torch.nn.functional.normalize(first[rows].mean(0), dim=0)
                proxy = torch.nn.functional.normalize(module.category_loss.proxies[c].detach(), dim=0)
                assert torch.allclose(proxy, mean, atol=1e-4)
        seen.append(module.last_losses["category_loss"])
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert seen[-1] < seen[0] * 0.9
    assert module.category_loss.proxies.grad is not None
