from __future__ import annotations

import io

import pandas as pd
import pytest
import torch

from training.config import TrainConfig, apply_overrides
from training.data import LabelledDataError, build_labelled_set
from training.train import fit, run_training


def _cfg(tmp_path, **over) -> TrainConfig:
    raw = {
        "data": {"sets": [{"kind": "pairs"}], "image_size": 64, "verify": "decode"},
        "model": {"pretrained": False, "embedding_dim": 16},
        "mining": {"m_per_class": 2},
        "trainer": {"batch_size": 8, "fast_dev_run": True, "progress_bar": False, "work_dir": str(tmp_path / "work")},
    }
    return TrainConfig.model_validate(apply_overrides(raw, over))


@pytest.mark.parametrize("strategy", ["online", "offline"])
def test_fast_dev_run_on_cpu(pairs_lake, tmp_path, strategy):
    cfg = _cfg(tmp_path, **{"mining.strategy": strategy})
    ls = build_labelled_set(cfg, pairs_lake)
    net, info = fit(cfg, ls, tmp_path / "work")
    assert info["steps"] == 1 and info["precision"] == "32-true"
    # online: the default category loss over the 4 train categories; offline batches carry no labels, so none
    assert (info["category_weight"], info["categories"]) == ((0.5, 4) if strategy == "online" else (0.0, 0))
    out = net.eval()(torch.rand(3, 3, 64, 64).contiguous(memory_format=torch.channels_last))
    assert out.shape == (3, 16)
    assert torch.allclose(out.norm(dim=1), torch.ones(3), atol=1e-5)


def test_frozen_stages_stay_as_they_were_and_the_rest_trains(pairs_lake, tmp_path):
    import lightning as L

    from training.train import build_module

    cfg = _cfg(tmp_path, **{"model.frozen_stages": 6, "model.freeze_bn": False})
    L.seed_everything(cfg.seed, verbose=False)
    before = {k: v.clone() for k, v in build_module(cfg).net.state_dict().items()}  # fit starts from the same seed
    net, info = fit(cfg, build_labelled_set(cfg, pairs_lake), tmp_path / "work")
    after = net.state_dict()
    assert info["steps"] == 1
    # stem and blocks 0-4: weights and BatchNorm statistics untouched even with freeze_bn off
    for key in (
        "backbone.conv_stem.weight",
        "backbone.blocks.4.0.conv_pw.weight",
        "backbone.blocks.4.0.bn1.running_mean",
    ):
        assert torch.equal(before[key], after[key]), key
    for key in ("backbone.blocks.6.0.conv_pw.weight", "backbone.blocks.6.0.bn1.running_mean", "head.weight"):
        assert not torch.equal(before[key], after[key]), key


def test_training_never_starts_on_an_empty_split(pairs_lake, tmp_path):
    df = pd.read_parquet(io.BytesIO(pairs_lake.read_bytes("labels/pairs/batch1.parquet"))).assign(split="train")
    pairs_lake.write_bytes("labels/pairs/batch1.parquet", df.to_parquet())
    cfg = _cfg(tmp_path)
    with pytest.raises(LabelledDataError, match="empty validation split"):
        fit(cfg, build_labelled_set(cfg, pairs_lake), tmp_path / "work")
    pairs_lake.write_bytes("labels/pairs/batch1.parquet", df.assign(split="val").to_parquet())
    with pytest.raises(LabelledDataError, match="empty train split"):
        fit(cfg, build_labelled_set(cfg, pairs_lake), tmp_path / "work")


def test_gate_refuses_a_worse_model_and_keeps_the_service_model(tmp_path):
    """A random-init candidate trained one epoch loses to the pretrained backbone on the same val split."""
    from include.core.lake import open_lake
    from include.core.settings import get_settings
    from training import registry

    lake = open_lake()
    cfg = _cfg(tmp_path, **{"data.sets": [{"kind": "synthetic", "n_items": 16, "consumer_views": 1}],
                            "data.val_fraction": 0.5, "trainer.fast_dev_run": False, "trainer.max_epochs": 1,
                            "trainer.limit_train_batches": 1, "trainer.tensorboard": False})  # fmt: skip
    result = run_training(cfg, lake=lake)
    assert result["incumbent"] == "imagenet-tf_efficientnet_lite0"
    # Scored on the served vectors (colour histogram appended) the random-init model can tie on this tiny set.
    assert result["metrics"]["recall@1"] <= result["incumbent_metrics"]["recall@1"]
    assert result["promoted"] is False and "does not beat" in result["reason"]
    served = get_settings().colour_weight  # both sides scored on the vectors serving would store
    assert served > 0 and result["metrics"]["colour_weight"] == result["incumbent_metrics"]["colour_weight"] == served
    assert registry.champion(lake) is None
    assert registry.card(lake, result["version"])["metrics"]["recall@1"] == result["metrics"]["recall@1"]
    assert registry.attempt(lake, result["data_fingerprint"])["promoted"] is False
    logs = list((tmp_path / "work").rglob("metrics.csv"))
    assert logs and "val/recall@1" in logs[0].read_text().splitlines()[0]
    assert list((tmp_path / "work").rglob("checkpoints/*.ckpt"))
