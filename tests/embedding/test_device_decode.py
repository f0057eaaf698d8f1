"""Device decoding (nvJPEG on a GPU) run on CPU tensors: batches, fallbacks, corrupt files, same vectors as Pillow."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from embedding.device_decode import DeviceLoader, colour_histograms, decode_batch, is_jpeg, read_batches
from embedding.encoder import Encoder
from embedding.loader import LakeReader
from embedding.pixels import colour_histogram, decode_pixels
from include.core.lake import LocalLake
from include.synth.apparel import jpeg_bytes, random_design, render_product


@pytest.fixture(scope="module")
def photos() -> list[bytes]:
    """Product photos as a shop serves them: 600 px JPEGs of different garments and sizes."""
    rng = np.random.default_rng(3)
    out = []
    for i in range(6):
        image = render_product(random_design(rng))
        side = 400 - 30 * i
        out.append(jpeg_bytes(image.resize((side, round(side * image.height / image.width))), 90))
    return out


def png(data: bytes) -> bytes:
    buf = io.BytesIO()
    Image.open(io.BytesIO(data)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def encoders():
    common = {"device": "cpu", "batch_size": 4, "colour_weight": 0.5}
    return (
        Encoder("tf_efficientnet_lite0", True, decode="cpu", **common),
        Encoder("tf_efficientnet_lite0", True, decode="device", **common),
    )


def test_a_batch_decodes_jpegs_together_and_falls_back_per_image(photos, encoders):
    prep = encoders[0].prep
    blobs = [photos[0], png(photos[1]), photos[2][: len(photos[2]) // 3], b"<html>blocked</html>", photos[3]]
    assert [is_jpeg(b) for b in blobs] == [True, False, True, False, True]
    batch = decode_batch(blobs, prep, "cpu")
    assert batch.indices == [0, 1, 4]  # the PNG decoded on the CPU, the cut JPEG and the HTML did not
    assert batch.fallbacks == 1
    assert [i for i, _ in batch.errors] == [2, 3] and all("does not decode" in m for _, m in batch.errors)
    assert batch.pixels.dtype == torch.uint8 and tuple(batch.pixels.shape) == (3, 3, prep.size, prep.size)
    assert batch.hists.shape == (3, 64)


def test_device_pixels_match_pillows_and_histograms_are_identical(photos, encoders):
    prep = encoders[0].prep
    batch = decode_batch(photos, prep, "cpu")
    pillow = np.stack([decode_pixels(b, prep) for b in photos])
    diff = np.abs(batch.pixels.numpy().astype(np.int16) - pillow.astype(np.int16))
    assert diff.mean() < 1.5  # Pillow decodes at half DCT scale first (draft), nvJPEG at full size
    same = torch.from_numpy(pillow)
    assert np.allclose(colour_histograms(same), np.stack([colour_histogram(p, prep) for p in pillow]), atol=1e-6)


def test_vectors_equal_the_pillow_path_within_tolerance(photos, encoders, tmp_path):
    lake = LocalLake(tmp_path / "lake")
    keys = []
    for i, data in enumerate([*photos, png(photos[0]), b"not an image"]):
        keys.append(f"images/full/{i}.jpg")
        lake.write_bytes(keys[-1], data)
    keys.insert(2, "images/full/missing.jpg")
    results = []
    for encoder in encoders:
        vectors, errors = {}, []
        for indices, batch_vectors, batch_errors in encoder.embed_stream(keys, LakeReader(lake)):
            vectors.update(zip(indices, batch_vectors, strict=True))
            errors += [i for i, _ in batch_errors]
        results.append((vectors, sorted(errors)))
    (pil, pil_errors), (dev, dev_errors) = results
    assert sorted(pil) == sorted(dev) == [0, 1, 3, 4, 5, 6, 7] and pil_errors == dev_errors == [2, 8]
    cosine = [float(pil[i] @ dev[i]) for i in pil]
    assert min(cosine) > 0.99, cosine  # the stated tolerance (docs/embedding.md)


def test_reader_threads_keep_order_and_report_unreadable_items(tmp_path):
    lake = LocalLake(tmp_path / "lake")
    for i in range(10):
        lake.write_bytes(f"k/{i}", bytes([i]) * 3)
    keys = [f"k/{i}" for i in range(10)] + ["k/none"]
    batches = list(read_batches(keys, LakeReader(lake), batch_size=4, threads=3, ahead=1))
    assert [ix for ix, _, _ in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10]]
    assert [b[0] for _, blobs, _ in batches for b in blobs if b] == list(range(10))
    assert [i for _, _, errs in batches for i, _ in errs] == [10]


def test_a_loader_stopped_early_leaves_no_thread_behind(photos, encoders):
    import threading

    loader = DeviceLoader(photos * 4, encoders[1].prep, "cpu", batch_size=2, depth=1)
    for _ in loader:
        break
    assert not [t for t in threading.enumerate() if t.name == "fti-decode" and t.is_alive()]


def test_cpu_forward_runs_in_small_calls_with_the_same_vectors(photos, encoders):
    encoder = encoders[0]
    assert encoder.forward_batch == 4  # the CPU default: calls of 8 at most (a batch of 4 is one call)
    pixels = torch.from_numpy(np.stack([decode_pixels(b, encoder.prep) for b in photos]))
    whole = encoder.forward(pixels)
    encoder.forward_batch = 2
    try:
        assert np.allclose(encoder.forward(pixels), whole, atol=1e-5)
    finally:
        encoder.forward_batch = 4
