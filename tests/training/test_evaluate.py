"""Evaluation scores the vectors serving stores: the same fit, the same colour histogram appended."""

from __future__ import annotations

import numpy as np
import pandas as pd

from embedding.encoder import Encoder
from include.synth.apparel import jpeg_bytes, random_design, render_product
from training.data.base import MemorySource
from training.evaluate import embed_table
from training.model import PretrainedEmbedder

NAME = "tf_efficientnet_lite0"


def test_the_gate_scores_the_vector_that_serving_stores():
    rng = np.random.default_rng(5)
    images = {}
    for i in range(6):  # product photos of several aspects (the fit matters) and colours (the histogram does)
        photo = render_product(random_design(rng))
        images[f"p{i}.jpg"] = jpeg_bytes(photo.resize((180 + 40 * i, 320 - 25 * i)), 92)
    table = pd.DataFrame({"image": list(images), "item_id": [f"i{i}" for i in range(6)], "domain": "shop",
                          "category": "top"})  # fmt: skip
    model = PretrainedEmbedder(NAME, pretrained=True).eval()
    source = MemorySource(images)
    scored, _ = embed_table(model, table, source, NAME, 224, batch_size=3, device="cpu", colour_weight=0.5)
    encoder = Encoder(NAME, model=model, feature_dim=model.embedding_dim, device="cpu", colour_weight=0.5,
                      precision="fp32", decode="cpu", batch_size=3)  # fmt: skip
    served, kept = encoder.embed_bytes(list(images.values()))
    assert kept == list(range(6)) and scored.shape == served.shape == (6, model.embedding_dim + 64)
    assert np.abs(scored - served).max() < 2e-3
    features_only, _ = embed_table(model, table, source, NAME, 224, batch_size=3, device="cpu")
    assert features_only.shape == (6, model.embedding_dim)
    assert np.abs(features_only @ features_only.T - (scored @ scored.T)).max() > 0.01  # the colour changes scores
