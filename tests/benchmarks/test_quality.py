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


def test_real_photo_semantic_rows_come_first_and_score_different_photos(tmp_path):
    import numpy as np

    from benchmarks.quality import base_colours, semantic, table
    from include.synth.apparel import random_design, render_product
    from training.data import load_styles
    from training.model import PretrainedEmbedder

    rng = np.random.default_rng(3)
    (tmp_path / "images").mkdir()
    lines = ["id,articleType,baseColour"]
    for n in range(4):  # two photos of each look (a near-twin: resized), labelled alike
        photo = render_product(random_design(rng), (160, 200))
        for k, side in enumerate((160, 150)):
            photo.resize((side, round(side * 1.25))).save(tmp_path / "images" / f"{10 * n + k + 1}.jpg")
            lines.append(f"{10 * n + k + 1},{'Tshirts' if n % 2 else 'Jeans'},{'Blue' if k else 'Red'}")
    (tmp_path / "styles.csv").write_text("\n".join(lines) + "\n")
    ls = load_styles(tmp_path, val_fraction=0.0, test_fraction=1.0)
    model = PretrainedEmbedder("tf_efficientnet_lite0", pretrained=True)
    ev = {"batch_size": 4, "device": "cpu", "workers": 0}
    real = semantic(model, ls, "tf_efficientnet_lite0", 128, base_colours(tmp_path), ev)
    assert real["real_photos"] == 8 and real["real_same_type_r1"] == 1.0  # each photo's nearest is its twin
    assert real["real_same_type_colour_r1"] == 0.0  # ... whose baseColour differs (labelled so on purpose)
    row = {"model": "pretrained", "size": 128, **real, "recall@1": 0.5, "recall@5": 0.6, "recall@20": 0.7,
           "category_recall@1": 0.8}  # fmt: skip
    text = table([row])
    assert text.index("Real photos") < text.index("Generated views") and "same articleType R@1" in text
