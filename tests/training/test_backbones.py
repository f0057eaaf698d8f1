from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch

from training.backbones import (
    WeightsUnavailable,
    create_backbone,
    load_offline_weights,
    preprocessing_for,
    resolve_device,
)

REAL = Path(__file__).resolve().parents[3] / "shared/data/fashion-product-images"


def test_device_resolution():
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("cuda:1") == "cuda:1"
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.parametrize("name", ["tf_efficientnet_lite0", "tf_efficientnet_lite2"])
def test_lite_offline_weights_load_into_every_tensor(name):
    pretrained = create_backbone(name, pretrained=True)
    random_init = create_backbone(name, pretrained=False)
    assert pretrained.num_features == 1280
    w_pre = pretrained.conv_stem.weight
    assert not torch.equal(w_pre, random_init.conv_stem.weight)
    # BatchNorm running statistics came from the file too (timm initialises them to 0/1).
    assert not torch.allclose(pretrained.bn2.running_var, torch.ones_like(pretrained.bn2.running_var))


def test_preprocessing_of_the_lite_family():
    prep = preprocessing_for("tf_efficientnet_lite0")
    assert prep.size == 224 and prep.mean == (0.5, 0.5, 0.5) and prep.std == (0.5, 0.5, 0.5)
    assert preprocessing_for("tf_efficientnet_lite2").size == 260


def test_original_efficientnet_b3_stays_selectable_without_the_hub():
    model = create_backbone("efficientnet_b3", pretrained=False)
    assert model.num_features == 1536


def test_weights_of_another_architecture_are_refused():
    import timm

    other = timm.create_model("tf_efficientnet_lite1", pretrained=False, num_classes=0)
    with pytest.raises(WeightsUnavailable, match="does not fit"):
        load_offline_weights(other, "tf_efficientnet_lite0")


@pytest.mark.skipif(not REAL.exists(), reason="real photos only exist beside the checkout (../shared/data)")
def test_imagenet_head_recognises_real_tshirts():
    import timm
    from PIL import Image

    from embedding.pixels import to_array

    model = timm.create_model("tf_efficientnet_lite0", pretrained=False).eval()
    load_offline_weights(model, "tf_efficientnet_lite0")
    with open(REAL / "styles.csv", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["articleType"] == "Tshirts"][:10]
    prep = preprocessing_for("tf_efficientnet_lite0")
    batch = np.stack([to_array(Image.open(REAL / "images" / f"{r['id']}.jpg"), prep) for r in rows])
    with torch.inference_mode():
        top = model(torch.from_numpy(batch)).argmax(1).tolist()
    jersey = 610  # ImageNet "jersey, T-shirt, tee shirt"
    assert sum(t == jersey for t in top) >= 6, top


@pytest.mark.parametrize("name", ["mobilenetv3_small_050", "resnet10t"])
def test_embedding_net_sizes_its_head_from_the_real_output_width(name):
    """MobileNetV3 outputs ``head_hidden_size`` (1024) features, not ``num_features`` (288)."""
    import torch

    from training.backbones import create_backbone, output_features
    from training.model import EmbeddingNet

    backbone = create_backbone(name, pretrained=False)
    with torch.no_grad():
        width = backbone(torch.zeros(1, 3, 64, 64)).shape[1]
    assert output_features(backbone) == width
    net = EmbeddingNet(name, embedding_dim=32, pretrained=False).eval()
    with torch.no_grad():
        out = net(torch.rand(2, 3, 64, 64))
    assert out.shape == (2, 32)
    assert torch.allclose(out.norm(dim=1), torch.ones(2), atol=1e-5)


def test_freeze_stages_freezes_the_stem_and_leading_block_stages_only():
    from training.backbones import freeze_stages

    model = create_backbone("tf_efficientnet_lite0", pretrained=False)
    assert freeze_stages(model, 0) == 0 and all(p.requires_grad for p in model.parameters())
    frozen = freeze_stages(model, 6)  # stem + blocks 0-4
    names = {n for n, p in model.named_parameters() if not p.requires_grad}
    assert frozen == len(names) > 0
    assert {"conv_stem.weight", "bn1.weight", "blocks.4.2.bn3.bias"} <= names
    assert not any(n.startswith(("blocks.5.", "blocks.6.", "conv_head", "bn2")) for n in names)
    with pytest.raises(ValueError, match="leaves nothing to train"):
        freeze_stages(create_backbone("tf_efficientnet_lite0", pretrained=False), 8)
