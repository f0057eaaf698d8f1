"""Consumer ("street") photos: a garment placed in a defocused scene, in perspective, lit, with sensor noise.

:func:`render_consumer_view` photographs a :class:`~include.synth.designs.Design` (sometimes worn) and
:func:`consumer_view_of_photo` a real white-background catalog photo, with the same random augmentations.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from include.synth.designs import SILHOUETTES, Design
from include.synth.garment import draw_garment, soft_shadow

_SKIN = [(241, 205, 178), (224, 172, 135), (190, 136, 98), (141, 92, 62), (95, 62, 44)]


def _homography(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """3x3 matrix H with dst ~ H @ src for four point pairs."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(src, dst, strict=True):
        rows += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
        rhs += [u, v]
    return np.append(np.linalg.solve(np.array(rows, float), np.array(rhs, float)), 1).reshape(3, 3)


def _muted(rng: np.random.Generator) -> np.ndarray:
    """A dull scene colour: a grey level with a slight tint (walls, pavement, foliage, interiors)."""
    return (rng.uniform(55, 215) + rng.normal(0, 18, 3)).clip(0, 255).astype(np.float32)


def _background(rng: np.random.Generator, w: int, h: int) -> Image.Image:
    """A cluttered scene: a gradient plus blobs, a floor line or random objects, out of focus."""
    size, f = (w, h), rng.uniform(2.5, 5.0)
    w, h = max(2, round(w / f)), max(2, round(h / f))  # drawn small and upscaled: reads as depth of field
    c1, c2 = _muted(rng), _muted(rng)
    a = rng.uniform(0, 2 * np.pi)
    yy, xx = np.ogrid[0:h, 0:w]
    t = ((xx - w / 2) * np.cos(a) + (yy - h / 2) * np.sin(a)) / max(w, h) + 0.5
    t = t.astype(np.float32)[..., None]
    bg = c1 * (1 - t) + c2 * t
    # Tiles and bricks are left out on purpose: a sharp grid reads as a checked fabric to a CNN.
    kinds = rng.permutation(3)[: int(rng.integers(1, 3))]
    if 0 in kinds:  # large soft blobs
        n = int(rng.integers(3, 9))
        low = Image.fromarray(rng.uniform(0, 255, (n, n, 3)).astype(np.uint8))
        low = np.asarray(low.resize((w, h), Image.Resampling.BICUBIC), np.float32)
        bg += (low - 128) * rng.uniform(0.1, 0.3)
    if 1 in kinds:  # floor line
        floor = (bg * 0.6 + _muted(rng) * 0.4).astype(np.float32)
        bg = np.where((yy > rng.uniform(0.45, 0.85) * h)[..., None], floor, bg)
    img = Image.fromarray(bg.clip(0, 255).astype(np.uint8))
    if 2 in kinds:  # random objects
        draw = ImageDraw.Draw(img)
        for _ in range(int(rng.integers(3, 10))):
            x0, y0 = rng.uniform(-0.1, 1.0, 2) * (w, h)
            x1, y1 = x0 + rng.uniform(0.05, 0.4) * w, y0 + rng.uniform(0.05, 0.4) * h
            col = tuple(int(v) for v in _muted(rng))
            (draw.ellipse if rng.random() < 0.5 else draw.rectangle)([x0, y0, x1, y1], fill=col)
    return img.filter(ImageFilter.SMOOTH).resize(size, Image.Resampling.BILINEAR)


@lru_cache(maxsize=1)
def _noise_bank() -> Image.Image:
    bank = np.random.default_rng(12345).standard_normal((512, 512, 3), dtype=np.float32) * 8 + 128
    return Image.fromarray(bank.clip(0, 255).astype(np.uint8))


def _noise(rng: np.random.Generator, w: int, h: int) -> Image.Image:
    """Gaussian sensor noise as an RGB image, 128 +- 8 per unit: a random window of a fixed bank (cheap)."""
    bank = _noise_bank()
    if w > bank.width or h > bank.height:
        bank = bank.resize((max(w, bank.width), max(h, bank.height)), Image.Resampling.NEAREST)
    x, y = int(rng.integers(0, bank.width - w + 1)), int(rng.integers(0, bank.height - h + 1))
    return bank.crop((x, y, x + w, y + h))


def _place(subject: Image.Image, pts: np.ndarray, rng: np.random.Generator, size: tuple[int, int]) -> Image.Image:
    """Warp an RGBA subject into a ``size`` frame: random scale, offset, tilt and mild perspective.

    ``pts`` are (x, y) samples of the garment's own pixels in subject coordinates; at least 70 % of them
    stay in frame.
    """
    w, h = size
    gx0, gy0 = pts.min(0)
    gw, gh = np.ptp(pts, 0) + 1
    centre = np.array([gx0 + gw / 2, gy0 + gh / 2])
    sw, sh = subject.size
    corners = np.array([[0, 0], [sw, 0], [sw, sh], [0, sh]], float)
    sample = pts[rng.integers(0, len(pts), min(len(pts), 400))]
    for attempt in range(10):
        k = 1.0 if attempt < 9 else 0.0
        s = min(rng.uniform(0.78, 1.05) * h / gh, rng.uniform(0.85, 1.05) * w / gw)
        ang = np.deg2rad(rng.uniform(-7, 7) * k)
        rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]]) * s
        c = np.array([w / 2, h / 2]) + k * rng.uniform([-0.12, -0.1], [0.12, 0.14]) * (w, h)
        dst = (corners - centre) @ rot.T + c + k * rng.normal(0, 0.018 * s * max(gw, gh), (4, 2))
        fwd = _homography(corners, dst)
        p = np.c_[sample, np.ones(len(sample))] @ fwd.T
        p = p[:, :2] / p[:, 2:]
        if ((p[:, 0] >= 0) & (p[:, 0] < w) & (p[:, 1] >= 0) & (p[:, 1] < h)).mean() >= 0.7:
            break
    # Pre-shrink (a fast box filter) so the projective warp, which does not antialias, never halves the size.
    # Below 0.8 the warp then enlarges a little, which also softens the garment like a real lens would.
    if s < 0.8 and min(sw, sh) >= 4:
        subject = subject.reduce(2)
        fwd = fwd @ np.diag([sw / subject.width, sh / subject.height, 1.0])
    inv = np.linalg.inv(fwd)
    coeffs = tuple((inv / inv[2, 2]).flatten()[:8])
    return subject.transform(size, Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BILINEAR)


def _light(scene: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Uneven illumination and vignette (a low-resolution map), then contrast, exposure, temperature."""
    w, h = scene.size
    lw, lh = max(2, w // 8), max(2, h // 8)
    xs = ((np.arange(lw, dtype=np.float32) + 0.5) / lw - 0.5)[None, :]
    ys = ((np.arange(lh, dtype=np.float32) + 0.5) / lh - 0.5)[:, None]
    a, tilt, vig = rng.uniform(0, 2 * np.pi), rng.uniform(0, 0.1), rng.uniform(0, 0.35)
    light = (1 + tilt * (xs * np.cos(a) + ys * np.sin(a))) * (1 - vig * (xs**2 + ys**2))
    lmap = Image.fromarray((light / 1.1 * 255).clip(0, 255).astype(np.uint8))
    lmap = lmap.resize(scene.size, Image.Resampling.BILINEAR)
    scene = ImageChops.multiply(scene, Image.merge("RGB", (lmap, lmap, lmap)))
    contrast, temp, gain = rng.uniform(0.9, 1.06), rng.uniform(-0.04, 0.04), rng.uniform(0.9, 1.08)
    v = np.arange(256, dtype=np.float32) * 1.1
    lut = [((v - 128) * contrast + 128) * gain * f for f in (1 + temp, 1.0, 1 - temp)]
    return scene.point(np.concatenate(lut).clip(0, 255).round().astype(np.uint8).tolist())


def _sensor(scene: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Sensor noise."""
    sigma = rng.uniform(1.0, 3.5)
    noise = _noise(rng, *scene.size).point(lambda q: round(128 + (q - 128) * sigma / 8))
    return ImageChops.add(scene, noise, 1.0, -128)


def _compose_view(
    subject: Image.Image, pts: np.ndarray, rng: np.random.Generator, size: tuple[int, int]
) -> Image.Image:
    """Photograph an RGBA subject in a random scene: placement, background, shadow, light, noise."""
    placed = _place(subject, pts, rng, size)
    scene = _background(rng, *size)
    shadow = soft_shadow(placed.getchannel("A"), 6)
    shadow = ImageChops.offset(shadow, int(rng.integers(-6, 7)), int(rng.integers(2, 9)))
    scene.paste((0, 0, 0), (0, 0, *size), shadow.point(lambda v: round(0.35 * v)))
    scene.paste(placed, (0, 0), placed)
    return _sensor(_light(scene, rng), rng)


def _subject_of_design(d: Design, rng: np.random.Generator) -> tuple[Image.Image, np.ndarray]:
    """The garment, sometimes worn (head and neck above tops, legs below hems), and its own pixel samples."""
    g = draw_garment(d)
    w, h = g.size
    top, bottom = (int(0.35 * h), int(0.45 * h)) if rng.random() < 0.55 else (0, 0)
    canvas = Image.new("RGBA", (w, h + top + bottom), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    skin = _SKIN[int(rng.integers(len(_SKIN)))] + (255,)
    ys = [y for _, y in SILHOUETTES[d.silhouette]]
    gtop, ghem = min(ys) * h + top, max(ys) * h + top
    if top and d.silhouette not in ("skirt", "trousers", "shorts"):
        draw.rectangle([0.45 * w, gtop - 0.08 * h, 0.55 * w, gtop + 0.08 * h], fill=skin)
        draw.ellipse([0.41 * w, gtop - 0.3 * h, 0.59 * w, gtop - 0.06 * h], fill=skin)
        hair = tuple(int(v) for v in rng.uniform(20, 120, 3)) + (255,)
        draw.chord([0.4 * w, gtop - 0.32 * h, 0.6 * w, gtop - 0.1 * h], 180, 360, fill=hair)
    if bottom:
        shoe = tuple(int(v) for v in rng.uniform(10, 200, 3)) + (255,)
        legs = d.silhouette in ("dress", "skirt", "shorts", "coat")
        for x0 in (0.37, 0.53):
            if legs:
                draw.rectangle([x0 * w, ghem - 0.05 * h, (x0 + 0.1) * w, ghem + 0.3 * h], fill=skin)
            if legs or d.silhouette == "trousers":
                draw.ellipse(
                    [
                        (x0 - 0.03) * w,
                        ghem + (0.27 if legs else -0.02) * h,
                        (x0 + 0.13) * w,
                        ghem + (0.33 if legs else 0.04) * h,
                    ],
                    fill=shoe,
                )
    canvas.alpha_composite(g, (0, top))
    ya, xa = np.nonzero(np.asarray(g.getchannel("A"))[::4, ::4] > 128)
    return canvas, np.c_[xa * 4, ya * 4 + top].astype(float)


def render_consumer_view(design: Design, rng: np.random.Generator, size: tuple[int, int] = (320, 320)) -> Image.Image:
    """A consumer ("street") photo of the same garment as :func:`render_product`.

    Args:
        design: The garment.
        rng: Generator driving every random choice (seed it for reproducible images).
        size: Output (width, height).

    Returns:
        An RGB image of ``size`` with at least ~70 % of the garment in frame.
    """
    subject, pts = _subject_of_design(design, rng)
    return _compose_view(subject, pts, rng, size)


def cut_out(img: Image.Image) -> Image.Image:
    """A white-background product photo as an RGBA cut-out: what differs from the studio white and everything it
    encloses is opaque, the white reachable from an edge transparent (a soft, halo-free edge)."""
    return _cut_out(img)[0]


def _cut_out(img: Image.Image) -> tuple[Image.Image, np.ndarray]:
    """:func:`cut_out` and its hard background mask (before the edge is softened)."""
    rgb = np.asarray(img.convert("RGB"), np.int16)
    fg = (rgb.min(2) < 232) | (rgb.max(2) - rgb.min(2) > 14)
    m = Image.fromarray((fg * 255).astype(np.uint8))
    m = m.filter(ImageFilter.MaxFilter(5)).filter(ImageFilter.MinFilter(5))
    fg = np.asarray(m) > 0
    # Fill what is enclosed: background is only what can be reached straight from an image edge.
    outside = (
        (np.cumsum(fg, 1) == 0)
        | (np.cumsum(fg[:, ::-1], 1)[:, ::-1] == 0)
        | (np.cumsum(fg, 0) == 0)
        | (np.cumsum(fg[::-1], 0)[::-1] == 0)
    )
    alpha = Image.fromarray(((~outside) * 255).astype(np.uint8))
    alpha = alpha.filter(ImageFilter.MinFilter(5)).filter(ImageFilter.GaussianBlur(1))  # no white halo
    subject = img.convert("RGB")
    subject.putalpha(alpha)
    return subject, outside


def consumer_view_of_photo(
    img: Image.Image, rng: np.random.Generator, size: tuple[int, int] = (320, 320)
) -> Image.Image:
    """A consumer-style view of a real white-background product photo (the same augmentations as designs).

    Args:
        img: Catalog photo on a (near) white studio background.
        rng: Random generator.
        size: Output (width, height).

    Returns:
        An RGB image of ``size``.
    """
    subject, outside = _cut_out(img)
    ya, xa = np.nonzero(~outside[::2, ::2])
    if len(xa) == 0:
        ya, xa = np.mgrid[0 : img.height : 4, 0 : img.width : 4].reshape(2, -1) // 2
    return _compose_view(subject, np.c_[xa * 2, ya * 2].astype(float), rng, size)
