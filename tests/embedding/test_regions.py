"""Detector-free garment regions: boxes on scenes with known boxes, bad input as counted outcomes, the match step."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageDraw

from embedding.regions import Localiser, crop, embed_regions, iou
from include.synth.apparel import jpeg_bytes, random_design, render_product
from include.synth.street import compose_street

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "fashion-product-images"
REAL = REAL if REAL.is_dir() else Path("/work/shared/data/fashion-product-images")


@pytest.fixture(scope="module")
def localiser() -> Localiser:
    return Localiser("tf_efficientnet_lite0", size=320, max_regions=6, device="cpu")


def landscape() -> Image.Image:
    a = np.zeros((300, 400, 3), np.uint8)
    a[:150], a[150:] = (135, 190, 235), (70, 120, 40)
    return Image.fromarray(a)


def text() -> Image.Image:
    page = Image.new("RGB", (400, 300), "white")
    draw = ImageDraw.Draw(page)
    for y in range(10, 290, 20):
        draw.text((10, y), "The quick brown fox jumps over the lazy dog 0123456789", fill="black")
    return page


def face() -> Image.Image:
    img = Image.new("RGB", (300, 300), (90, 120, 160))
    draw = ImageDraw.Draw(img)
    draw.ellipse((80, 50, 220, 230), fill=(224, 172, 135))
    draw.ellipse((120, 110, 140, 125), fill="black")
    draw.ellipse((160, 110, 180, 125), fill="black")
    return img


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def test_bad_input_is_a_counted_outcome_never_a_crash(localiser):
    from embedding.encoder import Encoder

    encoder = Encoder("tf_efficientnet_lite0", True, device="cpu", colour_weight=0.5, precision="fp32")
    garment = render_product(random_design(np.random.default_rng(1)))  # one garment filling the frame
    huge = garment.resize((3000, 3750))
    blobs = [png(landscape()), png(text()), png(face()), png(Image.new("RGB", (8, 8), "red")), b"<html>",
             jpeg_bytes(garment), jpeg_bytes(huge)]  # fmt: skip
    found = embed_regions(encoder, localiser, blobs, batch_size=4)
    outcomes = [loc.outcome for loc in found.localised]
    assert outcomes == ["no-garment", "no-garment", "no-garment", "too-small", "undecodable", "regions", "regions"]
    assert found.outcomes == {"no-garment": 3, "too-small": 1, "undecodable": 1, "regions": 2}
    assert {p for p, _ in found.owners} == {5, 6}  # only the garments have regions, so only they vote
    assert found.vectors.shape == (len(found.owners), encoder.dim)
    assert np.allclose(np.linalg.norm(found.vectors, axis=1), 1.0, atol=1e-5)
    full = found.localised[5].regions[0].box
    assert (full[2] - full[0]) * (full[3] - full[1]) > 0.3 * garment.width * garment.height  # fills the frame
    big = max(found.localised[6].regions, key=lambda r: (r.box[2] - r.box[0]) * (r.box[3] - r.box[1])).box
    assert big[2] <= 3000 and big[3] <= 3750 and (big[2] - big[0]) > 1000  # boxes in the huge photo's pixels


@pytest.mark.skipif(not (REAL / "styles.csv").is_file(), reason="real product photos not present")
def test_boxes_of_real_cut_outs_in_a_street_scene(localiser):
    styles = pd.read_csv(REAL / "styles.csv", dtype={"id": str})
    shirts = styles[styles["articleType"].isin(["Tshirts", "Shirts", "Jeans", "Casual Shoes"])]["id"].tolist()
    rng = np.random.default_rng(4)
    truth, found = [], []
    for _ in range(6):
        ids = rng.choice(shirts, 2, replace=False)
        scene, placed = compose_street([(i, Image.open(REAL / "images" / f"{i}.jpg")) for i in ids], [], rng)
        truth.append([p.box for p in placed])
        found.append(localiser.localise([scene])[0])
    pairs = [(loc, t) for loc, boxes in zip(found, truth, strict=True) for t in boxes]
    recalled = [any(iou(r.box, t) >= 0.5 for r in loc.regions) for loc, t in pairs]
    assert sum(loc.outcome == "regions" for loc in found) >= 4
    assert np.mean(recalled) >= 0.2  # 0.25 here; bench-street measures it on 200 scenes (a coarse localiser)
    near = [max((iou(r.box, t) for r in loc.regions), default=0.0) for loc, t in pairs]
    guesses = []  # as many random boxes of garment-like sizes per scene: what no localisation gives
    for loc, t in pairs:
        boxes = []
        for _ in range(max(1, len(loc.regions))):
            w, h = rng.uniform(60, 300), rng.uniform(90, 380)
            x, y = rng.uniform(0, 512 - w), rng.uniform(0, 640 - h)
            boxes.append((x, y, x + w, y + h))
        guesses.append(max(iou(b, t) for b in boxes))
    assert np.mean(near) > np.mean(guesses) + 0.05  # 0.27 vs 0.21 here: better than chance, far from a detector


def test_a_crop_keeps_a_margin_inside_the_photo():
    image = Image.new("RGB", (100, 80))
    assert crop(image, (10, 10, 60, 50)).size == (60, 48)
    assert crop(image, (0, 0, 100, 80)).size == (100, 80)
