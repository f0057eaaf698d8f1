"""The synthetic apparel renderer: designs, product shots and consumer views."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
from PIL import Image

from include.synth.apparel import (
    FEATURES,
    PALETTE,
    PATTERNS,
    SILHOUETTES,
    Design,
    consumer_view_of_photo,
    jpeg_bytes,
    random_design,
    render_consumer_view,
    render_product,
)


def test_vocabulary_is_rich_enough() -> None:
    assert len(SILHOUETTES) >= 8
    assert len(PALETTE) >= 14
    assert set(PATTERNS) >= {"solid", "stripes", "dots", "checks", "print"}
    assert "none" in FEATURES and len(FEATURES) >= 4


def test_random_design_is_seeded_and_valid() -> None:
    a = [random_design(np.random.default_rng(3)) for _ in range(2)]
    assert a[0] == a[1]
    designs = [random_design(np.random.default_rng(i)) for i in range(200)]
    assert len(set(designs)) > 190
    for d in designs:
        assert d.silhouette in SILHOUETTES and d.base in PALETTE and d.secondary in PALETTE
        assert d.base != d.secondary and d.pattern in PATTERNS
    assert {d.pattern for d in designs} == set(PATTERNS)
    assert {d.silhouette for d in designs} == set(SILHOUETTES)
    assert {d.feature for d in designs} == set(FEATURES)
    assert all(d.feature != "none" for d in designs if d.pattern == "solid")


@pytest.mark.parametrize("silhouette", sorted(SILHOUETTES))
def test_product_shot_shows_a_centred_garment(silhouette: str) -> None:
    d = Design(silhouette, "Navy", "White", "stripes", "vertical", 20)
    img = render_product(d)
    assert img.size == (256, 320) and img.mode == "RGB"
    arr = np.asarray(img).astype(int)
    assert arr[2, 2].min() > 225  # light studio background in the corner
    navy = np.abs(arr - np.array(PALETTE["Navy"])).sum(axis=2) < 90
    ys, xs = np.nonzero(navy)
    assert navy.mean() > 0.05
    assert abs(xs.mean() - 128) < 20


def test_rendering_is_deterministic() -> None:
    d = random_design(np.random.default_rng(11))
    assert jpeg_bytes(render_product(d), 90) == jpeg_bytes(render_product(d), 90)
    one = jpeg_bytes(render_consumer_view(d, np.random.default_rng(5)), 80)
    assert one == jpeg_bytes(render_consumer_view(d, np.random.default_rng(5)), 80)
    assert one != jpeg_bytes(render_consumer_view(d, np.random.default_rng(6)), 80)


def test_consumer_view_keeps_the_garment_in_frame() -> None:
    d = Design("dress", "Red", "Cream", "dots", "horizontal", 0, 10, 34)
    red = np.array(PALETTE["Red"])
    for seed in range(8):
        img = render_consumer_view(d, np.random.default_rng(seed), (320, 320))
        assert img.size == (320, 320) and img.mode == "RGB"
        arr = np.asarray(img).astype(int)
        # the garment's red (under changed light) covers a good part of the frame
        assert (np.abs(arr - red).sum(axis=2) < 120).mean() > 0.08


def test_consumer_view_of_a_photo() -> None:
    photo = Image.new("RGB", (224, 224), (255, 255, 255))
    photo.paste((30, 60, 160), (60, 30, 170, 200))
    img = consumer_view_of_photo(photo, np.random.default_rng(1), (320, 320))
    assert img.size == (320, 320)
    arr = np.asarray(img).astype(int)
    assert (np.abs(arr - np.array([30, 60, 160])).sum(axis=2) < 100).mean() > 0.08


def test_jpeg_bytes_decode() -> None:
    data = jpeg_bytes(render_product(random_design(np.random.default_rng(0)), (64, 80)), 80)
    assert data[:2] == b"\xff\xd8"
    assert Image.open(io.BytesIO(data)).size == (64, 80)


def test_rendering_is_fast() -> None:
    rng = np.random.default_rng(0)
    designs = [random_design(rng) for _ in range(10)]
    start = time.perf_counter()
    for d in designs:
        jpeg_bytes(render_product(d), 90)
        jpeg_bytes(render_consumer_view(d, rng), 80)
    per_image = (time.perf_counter() - start) / 20
    assert per_image < 0.1  # ~10-20 ms on a slow core; generous for loaded CI machines
