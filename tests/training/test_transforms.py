"""Training and evaluation transforms fit images as the embedding service does: same input, never squashed."""

from __future__ import annotations

import numpy as np
import torch

from embedding.pixels import colour_histogram, to_array, to_pixels
from tests.include.core.test_imagefit import disc
from training.backbones import preprocessing_for
from training.transforms import ServedTransform, consumer_transform, eval_transform, light_transform

NAME = "tf_efficientnet_lite0"


def test_evaluation_input_equals_the_services_input_for_a_tall_photo():
    prep = preprocessing_for(NAME)
    photo = disc(120, 340)
    served = to_array(photo, prep)
    assert np.allclose(eval_transform(NAME, prep.size)(photo).numpy(), served, atol=1e-5)
    x, hist = ServedTransform(NAME, prep.size)(photo)
    assert np.allclose(x.numpy(), served, atol=1e-5)
    assert np.array_equal(hist.numpy(), colour_histogram(to_pixels(photo, prep), prep))


def test_training_augmentations_keep_a_garments_proportions():
    torch.manual_seed(0)
    for transform in (light_transform(NAME, 96), consumer_transform(NAME, 96)):
        for _ in range(6):
            x = transform(disc(300, 110, colour=(10, 10, 40)))
            assert tuple(x.shape) == (3, 96, 96)
            dark = (x.mean(dim=0) < -0.5).numpy()  # the navy disc (inputs are normalised to [-1, 1])
            rows, cols = np.flatnonzero(dark.any(axis=1)), np.flatnonzero(dark.any(axis=0))
            if len(rows) < 8 or rows[0] == 0 or cols[0] == 0 or rows[-1] == 95 or cols[-1] == 95:
                continue  # cut by the random crop: its extent says nothing about the aspect
            h, w = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
            assert 0.6 < h / w < 1.65, (transform, h, w)  # a squash of 300x110 to a square would give ~2.7
