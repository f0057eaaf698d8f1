from __future__ import annotations

import pytest

from training.config import DEFAULT_CONFIG, ConfigError, instantiate, load_config


def test_default_and_shipped_configs_validate():
    cfg = load_config()
    assert cfg.model.backbone == "tf_efficientnet_lite0" and cfg.loss.margin == 0.3
    assert cfg.mining.strategy == "online" and cfg.image_size() == 224
    for path in DEFAULT_CONFIG.parent.glob("*.yaml"):
        load_config(path)


def test_invalid_values_and_unknown_keys_name_the_field(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("trainer:\n  batch_size: 1\n")
    with pytest.raises(ConfigError, match="trainer.batch_size"):
        load_config(path)
    path.write_text("model:\n  backbone_name: x\n")
    with pytest.raises(ConfigError, match="backbone_name"):
        load_config(path)
    path.write_text("data:\n  sets:\n    - kind: deepfashion\n")
    with pytest.raises(ConfigError, match="needs a root folder"):
        load_config(path)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.yaml")


def test_overrides_and_target_injection():
    cfg = load_config(None, {"trainer.max_epochs": 2, "mining.miner": {"_target_": "collections.OrderedDict"}})
    assert cfg.trainer.max_epochs == 2
    assert type(instantiate(cfg.mining.miner)).__name__ == "OrderedDict"
    with pytest.raises(ConfigError, match="cannot import _target_"):
        instantiate({"_target_": "nowhere.Thing"})


def test_category_loss_fields(tmp_path):
    cfg = load_config()
    assert cfg.loss.category_weight == 2 and cfg.loss.category_loss == "normalized_softmax"
    assert cfg.model.frozen_stages == 6
    assert load_config(None, {"loss.category_weight": 0}).loss.category_weight == 0
    target = {"_target_": "pytorch_metric_learning.losses.NormalizedSoftmaxLoss", "temperature": 0.1}
    assert load_config(None, {"loss.category_loss": target}).loss.category_loss == target
    for bad, match in [({"loss.category_weight": -0.1}, "category_weight"),
                       ({"loss.category_loss": "arcface"}, "unknown category_loss"),
                       ({"loss.category_loss": {"temperature": 0.1}}, "needs a _target_"),
                       ({"loss.category_margin": 0}, "category_margin")]:  # fmt: skip
        with pytest.raises(ConfigError, match=match):
            load_config(None, bad)


def test_command_line_overrides_parse_as_yaml_values():
    from training.config import parse_overrides

    over = parse_overrides(
        ["model.frozen_stages=6", "loss.category_loss=normalized_softmax", "trainer.fast_dev_run=true"]
    )
    assert over == {"model.frozen_stages": 6, "loss.category_loss": "normalized_softmax", "trainer.fast_dev_run": True}
    assert load_config(None, over).model.frozen_stages == 6
    with pytest.raises(ConfigError, match="not KEY=VALUE"):
        parse_overrides(["model.frozen_stages"])
    with pytest.raises(ConfigError, match="frozen_stages"):
        load_config(None, {"model.frozen_stages": -1})
