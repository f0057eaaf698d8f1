from __future__ import annotations

import json

import pytest
import torch

from include.core.lake import open_lake
from training import registry
from training.model import CheckpointMismatch, EmbeddingNet

CONTRACT = {"version", "model_name", "embedding_dim", "image_size", "weights_key", "config", "metrics",
            "data_fingerprint", "created_at"}  # fmt: skip


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return EmbeddingNet("tf_efficientnet_lite0", 16, pretrained=False).eval()


def _register(lake, net, r1=0.5):
    return registry.register(lake, net, image_size=64, config={"k": 1}, metrics={"recall@1": r1}, data_fingerprint="fp")


def test_register_promote_and_load_the_champion(net):
    lake = open_lake()
    assert registry.champion(lake) is None
    card = _register(lake, net)
    assert set(card) >= CONTRACT
    assert card["version"].startswith("tf_efficientnet_lite0-") and card["embedding_dim"] == 16
    assert _register(lake, net)["version"] == card["version"]  # content-addressed: idempotent
    assert lake.exists(card["weights_key"]) and lake.exists(f"models/{card['version']}/card.json")

    registry.promote(lake, card["version"])
    champ = registry.champion(lake)
    assert champ["version"] == card["version"] and "promoted_at" in champ
    assert json.loads(lake.read_text("models/champion.json"))["weights_key"] == card["weights_key"]

    loaded = registry.load_embedder(lake)
    assert loaded.version == card["version"] and loaded.image_size == 64 and not loaded.training
    x = torch.rand(2, 3, 64, 64)
    with torch.inference_mode():
        out = loaded(x)
        assert torch.allclose(out, net(x), atol=1e-5)
    assert out.shape == (2, 16) and torch.allclose(out.norm(dim=1), torch.ones(2), atol=1e-5)


def test_without_champion_the_service_model_is_the_pretrained_backbone():
    lake = open_lake()
    assert registry.service_version(lake) == "imagenet-tf_efficientnet_lite0"
    model = registry.load_embedder(lake)
    assert model.version == "imagenet-tf_efficientnet_lite0" and model.image_size == 224
    with torch.inference_mode():
        out = model(torch.rand(1, 3, 224, 224))
    assert out.shape == (1, 1280) and abs(float(out.norm()) - 1) < 1e-5


def test_gate_decisions():
    assert registry.gate({"recall@1": 0.8}, None) == (True, "no incumbent recall@1")
    assert registry.gate({"recall@1": 0.8}, {"recall@1": 0.7})[0]
    assert not registry.gate({"recall@1": 0.7}, {"recall@1": 0.7})[0]  # a tie keeps the champion
    assert not registry.gate({"recall@1": 0.6}, {"recall@1": 0.7})[0]
    assert not registry.gate({"recall@1": 0.72}, {"recall@1": 0.7}, min_improvement=0.05)[0]


def test_gate_refuses_a_better_item_model_that_loses_category_neighbourhoods():
    guards = {"category_recall@1": 0.01}
    champion = {"recall@1": 0.93, "category_recall@1": 0.80}
    ok, reason = registry.gate({"recall@1": 0.98, "category_recall@1": 0.74}, champion, guards=guards)
    assert not ok and "category_recall@1 falls 0.8000 -> 0.7400" in reason
    assert registry.gate({"recall@1": 0.98, "category_recall@1": 0.795}, champion, guards=guards)[0]  # within 0.01
    assert registry.gate({"recall@1": 0.98, "category_recall@1": 0.74}, champion, guards={})[0]  # guard off
    assert registry.gate({"recall@1": 0.98}, {"recall@1": 0.93}, guards=guards)[0]  # champion never measured it
    with pytest.raises(registry.RegistryError, match="guarded 'category_recall@1'"):
        registry.gate({"recall@1": 0.98}, champion, guards=guards)


def test_checkpoint_of_another_architecture_and_tampered_weights_are_refused(net):
    lake = open_lake()
    card = _register(lake, net)
    bad = card | {"model_name": "tf_efficientnet_lite1"}
    lake.write_text(f"models/{card['version']}/card.json", json.dumps(bad))
    with pytest.raises(CheckpointMismatch, match=r"weights.pt: checkpoint of .* does not fit tf_efficientnet_lite1"):
        registry.load_embedder(lake, card["version"])
    lake.write_text(f"models/{card['version']}/card.json", json.dumps(card | {"embedding_dim": 32}))
    with pytest.raises(CheckpointMismatch, match="does not fit tf_efficientnet_lite0 \\(dim 32\\)"):
        registry.load_embedder(lake, card["version"])
    lake.write_bytes(card["weights_key"], b"garbage")
    with pytest.raises(registry.RegistryError, match="checksum differs"):
        registry.promote(lake, card["version"])
    assert registry.champion(lake) is None
    with pytest.raises(registry.RegistryError, match="no model 'nope'"):
        registry.load_embedder(lake, "nope")
