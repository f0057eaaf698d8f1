from __future__ import annotations

import numpy as np
import pytest

from embedding.encoder import EmbeddingError, Encoder
from tests.conftest import jpeg_bytes


@pytest.fixture(scope="module")
def encoder():
    return Encoder("tf_efficientnet_lite0", pretrained=True, device="cpu", batch_size=2)


def test_vectors_are_unit_length_and_batches_cover_every_image(encoder):
    images = [jpeg_bytes((i * 40, 100, 200 - i * 30), (120 + i, 90)) for i in range(5)]
    done = []
    vectors, kept = encoder.embed_bytes(images, progress=done.append)
    assert vectors.shape == (5, 1280) and kept == [0, 1, 2, 3, 4]
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert sum(done) == 5 and max(done) == 2
    single, _ = encoder.embed_bytes(images[3:4])
    assert np.allclose(single[0], vectors[3], atol=1e-4)  # batching does not change a vector


def test_undecodable_image_is_a_counted_skip(encoder):
    errors = []
    vectors, kept = encoder.embed_bytes(
        [jpeg_bytes(), b"<html>not an image</html>", jpeg_bytes((0, 0, 255))],
        on_error=lambda i, exc: errors.append(i),
    )
    assert kept == [0, 2] and errors == [1] and vectors.shape[0] == 2
    with pytest.raises(EmbeddingError, match="does not decode"):
        encoder.embed_bytes([b"garbage"])


def test_colour_histogram_tells_garment_colours_apart():
    coloured = Encoder("tf_efficientnet_lite0", pretrained=True, device="cpu", batch_size=4, colour_weight=0.5)
    assert coloured.dim == 1280 + 64
    navy, white, navy2 = (jpeg_bytes(c, (120, 160)) for c in [(20, 30, 90), (245, 245, 245), (25, 35, 95)])
    vectors, _ = coloured.embed_bytes([navy, white, navy2])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    hist = vectors[:, 1280:] / np.linalg.norm(vectors[:, 1280:], axis=1, keepdims=True)
    assert hist[0] @ hist[2] > 0.9 > hist[0] @ hist[1]


def test_uint8_pixels_and_float_inputs_give_the_same_histogram_and_vectors():
    """Workers ship uint8 pixels and the model's process normalises them: the same vectors as float inputs."""
    import torch

    from embedding.loader import ImageDataset, collate
    from embedding.pixels import colour_histogram, decode, decode_pixels, normalise

    coloured = Encoder("tf_efficientnet_lite0", pretrained=True, device="cpu", batch_size=4, colour_weight=0.5)
    rng = np.random.default_rng(3)
    images = [jpeg_bytes(tuple(int(c) for c in rng.integers(0, 256, 3)), (300, 200)) for _ in range(3)]
    pixels = np.stack([decode_pixels(b, coloured.prep) for b in images])
    floats = np.stack([decode(b, coloured.prep) for b in images])
    assert pixels.dtype == np.uint8 and pixels.shape == floats.shape == (3, 3, 224, 224)
    assert np.allclose(normalise(pixels, coloured.prep), floats) and floats.min() >= -1 and floats.max() <= 1
    assert np.allclose(normalise(torch.from_numpy(pixels), coloured.prep).numpy(), floats)
    for u8, f32 in zip(pixels, floats, strict=True):
        hist = colour_histogram(u8, coloured.prep)
        assert np.array_equal(hist, colour_histogram(f32, coloured.prep)) and hist.max() > 0.5
    batch = collate([ImageDataset(images, coloured.prep)[i] for i in range(3)])
    assert batch.pixels.dtype == torch.uint8
    from_loader = coloured.forward(batch.pixels, batch.hists)
    assert np.allclose(from_loader, coloured.forward(floats), atol=1e-5)
