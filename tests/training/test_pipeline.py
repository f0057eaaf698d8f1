from __future__ import annotations

import pytest
import torch

from training import registry
from training.config import load_config
from training.data import data_fingerprint
from training.model import EmbeddingNet
from training.pipeline import plan_training


@pytest.fixture
def config_file(tmp_path, monkeypatch):
    path = tmp_path / "train.yaml"
    path.write_text("data:\n  sets:\n    - kind: pairs\n      prefix: labels/pairs/\nmodel:\n  embedding_dim: 16\n")
    monkeypatch.setenv("FTI_TRAIN_CONFIG", str(path))
    from include.core.settings import get_settings

    get_settings.cache_clear()
    return path


def test_plan_skips_when_the_labelled_data_equals_the_champions(pairs_lake, config_file):
    plan = plan_training(lake=pairs_lake)
    assert plan["skip"] is False and plan["reason"] == "no champion yet" and plan["config"] == str(config_file)

    torch.manual_seed(0)
    net = EmbeddingNet("tf_efficientnet_lite0", 16, pretrained=False)
    fp = data_fingerprint(load_config(config_file), pairs_lake)
    assert fp == plan["fingerprint"]
    card = registry.register(pairs_lake, net, image_size=64, config={}, metrics={"recall@1": 1.0}, data_fingerprint=fp)
    registry.promote(pairs_lake, card["version"])
    plan = plan_training(lake=pairs_lake)
    assert plan["skip"] is True and card["version"] in plan["reason"]
    assert plan_training(force=True, lake=pairs_lake)["skip"] is False

    pairs_lake.write_text("labels/pairs/batch2.csv", "anchor_image,positive_image,item_id,category\na,b,new,c\n")
    changed = plan_training(lake=pairs_lake)
    assert changed["skip"] is False and changed["fingerprint"] != fp

    registry.record_attempt(pairs_lake, changed["fingerprint"], {"version": "v-lost", "promoted": False})
    again = plan_training(lake=pairs_lake)
    assert again["skip"] is True and "v-lost lost the gate" in again["reason"]


def test_plan_without_labelled_data_is_a_clear_error(config_file):
    from include.core.lake import open_lake
    from training.data import LabelledDataError

    with pytest.raises(LabelledDataError, match="no pairs files"):
        plan_training(lake=open_lake())
