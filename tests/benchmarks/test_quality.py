"""The quality benchmark's command line: the config of its trained rows."""

from __future__ import annotations

import pytest

from benchmarks.quality import parse_args, train_config


@pytest.fixture
def photos(tmp_path):
    (tmp_path / "styles.csv").write_text("id,articleType\n1,Tshirts\n")
    return tmp_path


def test_set_overrides_reach_the_trained_rows_and_the_ablation_keeps_weight_zero(photos, tmp_path):
    sets = ["model.frozen_stages=6", "loss.category_loss=normalized_softmax", "loss.category_weight=2"]
    args = parse_args(["--images", str(photos)] + [a for s in sets for a in ("--set", s)])
    cfg = train_config(args, "online", "batch_hard", None, tmp_path)
    assert (cfg.model.frozen_stages, cfg.loss.category_loss, cfg.loss.category_weight) == (6, "normalized_softmax", 2)
    assert cfg.model.backbone == "tf_efficientnet_lite0" and cfg.trainer.max_epochs == 5
    ablation = train_config(args, "online", "batch_hard", None, tmp_path, weight=0.0)
    assert ablation.loss.category_weight == 0.0 and ablation.model.frozen_stages == 6


def test_bad_overrides_are_refused_naming_the_key(photos, tmp_path):
    from training.config import ConfigError

    with pytest.raises(ConfigError, match="not KEY=VALUE"):
        train_config(parse_args(["--images", str(photos), "--set", "frozen"]), "online", "batch_hard", None, tmp_path)
    with pytest.raises(ValueError, match="frozen_stagez"):
        train_config(parse_args(["--images", str(photos), "--set", "model.frozen_stagez=1"]), "online", "batch_hard",
                     None, tmp_path)  # fmt: skip
