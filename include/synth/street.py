"""Street scenes composed from real product photos: several cut-outs in one cluttered frame, with their boxes.

:func:`compose_street` places one to three cut-outs of white-background product photos (:func:`~include.synth.scene.
cut_out`; many show the item worn by a model) on a cluttered, out-of-focus street-like background, each at 15-60 %
of the frame's height, in mild perspective, some partly occluded, beside distractor cut-outs, then lights the
scene unevenly and adds sensor noise. The box of every placed cut-out is returned, so localisation can be scored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from include.synth.scene import _background, _homography, _light, _muted, _sensor, cut_out


@dataclass(frozen=True)
class Placed:
    """A cut-out in a scene: its ``key`` (caller's id), ``box`` (left, top, right, bottom) and whether it is a
    ``distractor``."""

    key: str
    box: tuple[int, int, int, int]
    distractor: bool


def _iou(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    w = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union if union else 0.0


def _covered(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """How much of either box the other covers (the larger share)."""
    w = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    return w * h / max(1, min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1])))


def _warp(subject: Image.Image, height: int, rng: np.random.Generator) -> Image.Image:
    """The cut-out scaled to ``height`` px (its opaque part) in mild perspective, cropped to its alpha."""
    bbox = subject.getchannel("A").getbbox() or (0, 0, *subject.size)
    subject = subject.crop(bbox)
    scale = height / subject.height
    w, h = max(2, round(subject.width * scale)), max(2, height)
    subject = subject.resize((w, h), Image.Resampling.BICUBIC)
    pad = round(0.08 * max(w, h))
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], float)
    dst = src + pad + rng.normal(0, 0.035 * max(w, h), (4, 2))
    inv = np.linalg.inv(_homography(src, dst))
    out = subject.transform((w + 2 * pad, h + 2 * pad), Image.Transform.PERSPECTIVE,
                            tuple((inv / inv[2, 2]).flatten()[:8]), Image.Resampling.BILINEAR)  # fmt: skip
    return out.crop(out.getchannel("A").getbbox() or (0, 0, *out.size))


def compose_street(
    products: list[tuple[str, Image.Image]],
    distractors: list[tuple[str, Image.Image]],
    rng: np.random.Generator,
    size: tuple[int, int] = (512, 640),
    occlusion_p: float = 0.4,
) -> tuple[Image.Image, list[Placed]]:
    """One street scene of ``products`` and ``distractors`` (``(key, white-background photo)`` each).

    Returns:
        The RGB scene of ``size`` (width, height) and every placed cut-out with its box, products first.
    """
    w, h = size
    scene = _background(rng, w, h)
    placed: list[Placed] = []
    for n, (key, photo) in enumerate([*products, *distractors]):
        layer = _warp(cut_out(photo), round(rng.uniform(0.15, 0.6) * h), rng)
        if layer.width > 0.9 * w:
            layer = layer.resize((round(0.9 * w), max(2, round(layer.height * 0.9 * w / layer.width))))
        for attempt in range(30):  # a place that leaves the others mostly visible (shrinking when crowded)
            if attempt and attempt % 10 == 0:
                layer = layer.resize((max(2, round(layer.width * 0.8)), max(2, round(layer.height * 0.8))))
            x = int(rng.integers(0, max(1, w - layer.width)))
            y = int(rng.integers(0, max(1, h - layer.height)))
            box = (x, y, x + layer.width, y + layer.height)
            if all(_covered(box, p.box) < 0.2 for p in placed):
                break
        scene.paste(layer, (x, y), layer)
        placed.append(Placed(key, box, n >= len(products)))
    draw = ImageDraw.Draw(scene)
    for p in placed:
        if rng.random() < occlusion_p:  # a pole, a passer-by's arm, a sign: hides part of the item
            left, t, r, b = p.box
            ow, oh = (r - left) * rng.uniform(0.08, 0.2), (b - t) * rng.uniform(0.3, 0.8)
            ox, oy = rng.uniform(left, r - ow), rng.uniform(t, b - oh)
            draw.rectangle([ox, oy, ox + ow, oy + oh], fill=tuple(int(v) for v in _muted(rng)))
    return _sensor(_light(scene, rng), rng), placed
