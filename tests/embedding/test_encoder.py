from __future__ import annotations

from pathlib import Path

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


def test_bf16_vectors_stay_within_tolerance_of_fp32(encoder):
    from embedding.encoder import resolve_precision

    images = [jpeg_bytes((i * 50, 80 + i * 20, 160), (140, 110 + i)) for i in range(4)]
    fp32 = Encoder("tf_efficientnet_lite0", pretrained=True, device="cpu", batch_size=4, precision="fp32")
    bf16 = Encoder("tf_efficientnet_lite0", pretrained=True, device="cpu", batch_size=4, precision="bf16")
    assert (fp32.precision, bf16.precision) == ("fp32", "bf16")
    a, _ = fp32.embed_bytes(images)
    b, _ = bf16.embed_bytes(images)
    cosine = (a * b).sum(axis=1)
    assert cosine.min() > 0.9 and not np.array_equal(a, b)  # bf16 really ran (flat colours: its worst case)
    assert resolve_precision("auto", "cuda:0") == "bf16" and resolve_precision("fp32", "cuda:0") == "fp32"
    assert resolve_precision("auto", "cpu") in ("fp32", "bf16")
    with pytest.raises(ValueError, match="precision"):
        resolve_precision("fp16", "cpu")


REAL = Path(__file__).resolve().parents[3] / "shared/data/fashion-product-images/images"


@pytest.mark.skipif(not REAL.is_dir(), reason="the shared real product photos are not beside this checkout")
def test_bf16_on_real_photos_keeps_the_vectors_and_their_neighbours():
    data = [p.read_bytes() for p in sorted(REAL.glob("*.jpg"))[:48]]
    a, _ = Encoder(device="cpu", batch_size=16, precision="fp32").embed_bytes(data)
    b, _ = Encoder(device="cpu", batch_size=16, precision="bf16").embed_bytes(data)
    assert np.median((a * b).sum(axis=1)) > 0.999
    sa, sb = a @ a.T, b @ b.T
    np.fill_diagonal(sa, -1)
    np.fill_diagonal(sb, -1)
    assert (sa.argmax(axis=1) == sb.argmax(axis=1)).mean() >= 0.9
