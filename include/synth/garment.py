"""Drawing one :class:`~include.synth.designs.Design`: fabric pattern, motifs, colour-block feature, trims.

:func:`draw_garment` returns the shaded garment on a transparent supersampled canvas; the product shot
(:func:`include.synth.apparel.render_product`) and the consumer views (:mod:`include.synth.scene`)
both start from it.
"""

from __future__ import annotations

import zlib
from functools import lru_cache

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from include.synth.designs import PALETTE, SILHOUETTES, Design

# Details: (kind, unit-box coordinates, colour role, width, mirrored).
_DETAILS: dict[str, list[tuple[str, list[float], str, int, bool]]] = {
    "tshirt": [
        ("line", [0.39, 0.07, 0.5, 0.135, 0.61, 0.07], "sec", 9, False),
        ("line", [0.93, 0.36, 0.86, 0.29], "sec", 8, True),
    ],
    "shirt": [
        ("poly", [0.5, 0.11, 0.6, 0.05, 0.63, 0.14, 0.52, 0.18], "sec", 0, True),
        ("line", [0.5, 0.15, 0.5, 0.95], "dark", 3, False),
        ("dots", [0.5, 0.3, 0.45, 0.6, 0.75, 0.9], "dark", 6, False),
        ("line", [0.95, 0.58, 0.85, 0.61], "sec", 10, True),
    ],
    "dress": [
        ("line", [0.36, 0.42, 0.64, 0.42], "sec", 14, False),
        ("line", [0.41, 0.06, 0.5, 0.11, 0.59, 0.06], "dark", 5, False),
    ],
    "skirt": [
        ("rect", [0.31, 0.22, 0.69, 0.28], "sec", 0, False),
        ("line", [0.5, 0.28, 0.5, 0.86], "dark", 2, False),
    ],
    "trousers": [
        ("rect", [0.28, 0.04, 0.72, 0.1], "sec", 0, False),
        ("line", [0.5, 0.1, 0.5, 0.3], "dark", 3, False),
        ("line", [0.63, 0.1, 0.72, 0.2], "dark", 3, True),
        ("line", [0.62, 0.4, 0.69, 0.97], "dark", 2, True),
    ],
    "shorts": [
        ("rect", [0.28, 0.2, 0.72, 0.25], "sec", 0, False),
        ("line", [0.5, 0.25, 0.5, 0.4], "dark", 3, False),
        ("line", [0.6, 0.57, 0.8, 0.52], "sec", 9, True),
    ],
    "jacket": [
        ("poly", [0.5, 0.32, 0.61, 0.05, 0.66, 0.1, 0.58, 0.2, 0.61, 0.24], "sec", 0, True),
        ("line", [0.5, 0.32, 0.5, 0.8], "dark", 3, False),
        ("dots", [0.47, 0.45, 0.6], "dark", 7, False),
        ("line", [0.6, 0.58, 0.72, 0.58], "dark", 4, True),
    ],
    "hoodie": [
        ("ellipse", [0.41, 0.04, 0.59, 0.17], "dark", 0, False),
        ("rect", [0.21, 0.79, 0.79, 0.84], "sec", 0, False),
        ("poly", [0.34, 0.56, 0.66, 0.56, 0.7, 0.76, 0.3, 0.76], "dark", 3, False),
        ("line", [0.46, 0.16, 0.45, 0.33], "sec", 5, False),
        ("line", [0.54, 0.16, 0.55, 0.33], "sec", 5, False),
    ],
    "coat": [
        ("poly", [0.5, 0.28, 0.6, 0.04, 0.66, 0.09, 0.57, 0.2, 0.6, 0.24], "sec", 0, True),
        ("rect", [0.2, 0.5, 0.8, 0.55], "sec", 0, False),
        ("dots", [0.42, 0.35, 0.43, 0.65], "dark", 7, True),
    ],
    "tanktop": [
        ("line", [0.4, 0.205, 0.5, 0.21, 0.6, 0.205], "sec", 8, False),
        ("rect", [0.26, 0.8, 0.74, 0.86], "sec", 0, False),
    ],
}
_CANVAS = (300, 375)  # supersampled drawing canvas (w, h) of the unit box


def _pattern(d: Design, w: int, h: int) -> np.ndarray:
    """The garment fabric as a uint8 (h, w, 3) array; pattern sizes are in 400-px-wide canvas units."""
    k = w / 400
    base, sec = np.array(d.base_rgb, np.float32), np.array(d.secondary_rgb, np.float32)
    if d.pattern == "print":
        img = Image.new("RGB", (w, h), d.base_rgb)
        draw, r = ImageDraw.Draw(img), np.random.default_rng(d.motif_seed)
        mixed = tuple(int(v) for v in (base + sec) / 2)
        third = mixed if r.random() < 0.5 else PALETTE[str(r.choice(list(PALETTE)))]
        step = int(r.integers(48, 96) * k)
        for gy in range(-step // 2, h + step, step):
            for gx in range(-step // 2, w + step, step):
                cx, cy = gx + r.uniform(-0.3, 0.3) * step, gy + r.uniform(-0.3, 0.3) * step
                s, col = step * r.uniform(0.22, 0.38), d.secondary_rgb if r.random() < 0.7 else third
                _motif(draw, d.motif, cx, cy, s, r.uniform(0, 2 * np.pi), col, third)
        return np.asarray(img)
    r = np.random.default_rng(d.motif_seed)
    yy, xx = np.ogrid[0:h, 0:w]
    three = np.array([d.base_rgb, d.secondary_rgb, d.accent_rgb], np.uint8)
    if d.pattern == "stripes":  # an irregular repeat of stripes
        unit = _bands(r, d.stripe_width * k)
        if d.orientation == "horizontal":
            return np.broadcast_to(three[unit[np.arange(h) % len(unit)]][:, None], (h, w, 3))
        if d.orientation == "vertical":
            return np.broadcast_to(three[unit[np.arange(w) % len(unit)]][None, :], (h, w, 3))
        return three[unit[(xx + yy) % len(unit)]]
    if d.pattern == "dots":  # dots jittered in their cells, of varied sizes
        sp, rad = max(2, round(d.dot_spacing * k)), d.dot_radius * k
        ny, nx = h // sp + 2, w // sp + 2
        slack = max(0.0, sp / 2 - rad * 1.25)
        jx, jy = r.uniform(-slack, slack, (ny, nx)), r.uniform(-slack, slack, (ny, nx))
        rr = rad * r.uniform(0.75, 1.25, (ny, nx))
        # Per cell: dot centre (cx0, cy0) and radius; per pixel: offsets within the cell (all float32).
        cells = (np.arange(h)[:, None] // sp) * nx + (np.arange(w)[None, :] // sp)
        ox = ((np.arange(w) % sp) - sp / 2).astype(np.float32)[None, :] - jx.astype(np.float32).ravel()[cells]
        oy = ((np.arange(h) % sp) - sp / 2).astype(np.float32)[:, None] - jy.astype(np.float32).ravel()[cells]
        r2 = (rr.astype(np.float32) ** 2).ravel()[cells]
        return three[(ox * ox + oy * oy < r2).view(np.uint8)]
    if d.pattern == "checks":  # plaid: coloured bands across and down the base ground, mixed where they cross
        rows, cols = _bands(r, d.check_size * k), _bands(r, d.check_size * k)
        f3 = three.astype(np.float32)
        lut = ((f3[:, None] + f3[None, :]) / 2 * 0.85).round().astype(np.uint8)
        lut[0], lut[:, 0] = three, three
        return lut[rows[yy % len(rows)], cols[xx % len(cols)]]
    return np.broadcast_to(three[0], (h, w, 3))


def _bands(r: np.random.Generator, width: float) -> np.ndarray:
    """One repeat of a stripe sequence: colour index (0 base, 1 secondary, 2 accent) per pixel."""
    n = int(r.integers(2, 6))
    widths = np.maximum(1, np.round(width * r.uniform(0.5, 1.6, n))).astype(int)
    colours = [0, 1, 0, 2, 1][:n]
    return np.repeat(colours, widths)


def _motif(
    draw: ImageDraw.ImageDraw,
    kind: str,
    cx: float,
    cy: float,
    s: float,
    a: float,
    col: tuple[int, int, int],
    third: tuple[int, int, int],
) -> None:
    """One print motif of size ``s`` at (cx, cy), rotated by ``a``."""
    if kind == "floral":
        for k in range(5):
            px, py = cx + s * 0.6 * np.cos(a + k * 1.2566), cy + s * 0.6 * np.sin(a + k * 1.2566)
            draw.ellipse([px - s * 0.45, py - s * 0.45, px + s * 0.45, py + s * 0.45], fill=col)
        draw.ellipse([cx - s * 0.3, cy - s * 0.3, cx + s * 0.3, cy + s * 0.3], fill=third)
        return
    n = {"geometric": 3 + int(a * 10) % 2, "leaf": 12, "star": 10}[kind]
    rad = np.where((np.arange(n) % 2 == 1) & (kind == "star"), 0.45 * s, s)
    ang = a + 2 * np.pi * np.arange(n) / n
    sx = 0.45 if kind == "leaf" else 1.0
    draw.polygon([tuple(q) for q in np.c_[cx + rad * sx * np.cos(ang), cy + rad * np.sin(ang)]], fill=col)


def _xy(coords: list[float], w: int, h: int, mirror: bool = False) -> list[tuple[float, float]]:
    return [((1 - x if mirror else x) * w, y * h) for x, y in zip(coords[::2], coords[1::2], strict=True)]


def _feature(draw: ImageDraw.ImageDraw, d: Design, w: int, h: int) -> None:
    """Draw the design's colour-block feature in the accent colour (the garment mask clips it later)."""
    ys = [y for _, y in SILHOUETTES[d.silhouette]]
    top, bottom = min(ys) * h, max(ys) * h
    tall, col = bottom - top, d.accent_rgb
    if d.feature == "yoke":
        draw.rectangle([0, 0, w, top + 0.2 * tall], fill=col)
    elif d.feature == "hem":
        draw.rectangle([0, bottom - 0.13 * tall, w, h], fill=col)
    elif d.feature == "panel":
        draw.rectangle([0.41 * w, 0, 0.59 * w, h], fill=col)
    elif d.feature == "sash":
        draw.line([(0.1 * w, top), (0.9 * w, bottom)], fill=col, width=round(0.09 * w))
    elif d.feature == "graphic":
        size, cy = 0.14 * w, top + 0.36 * tall
        kind = ("floral", "geometric", "star")[d.motif_seed // 7 % 3]
        _motif(draw, kind, 0.5 * w, cy, size, (d.motif_seed % 628) / 100, col, d.base_rgb)


@lru_cache(maxsize=128)
def draw_garment(d: Design) -> Image.Image:
    """The garment on a transparent supersampled canvas (RGBA, ``_CANVAS`` sized, unit box = canvas).

    Cached: equal designs share one image, so callers must not modify it in place.

    Args:
        d: The garment.

    Returns:
        The shaded RGBA garment; alpha is the silhouette mask.
    """
    w, h = _CANVAS
    half = SILHOUETTES[d.silhouette]
    outline = [(x * w, y * h) for x, y in half] + [((1 - x) * w, y * h) for x, y in reversed(half)]
    mask = Image.new("L", (w, h), 0)
    ImageDraw.Draw(mask).polygon(outline, fill=255)
    img = Image.fromarray(np.ascontiguousarray(_pattern(d, w, h)))
    draw = ImageDraw.Draw(img)
    _feature(draw, d, w, h)
    dark = tuple(int(c * 0.62) for c in d.base_rgb)
    for kind, coords, role, width_400, mirrored in _DETAILS[d.silhouette]:
        col, width = d.secondary_rgb if role == "sec" else dark, max(1, round(width_400 * w / 400))
        for mir in (False, True) if mirrored else (False,):
            pts = _xy(coords, w, h, mir) if kind != "dots" else []
            if kind == "line":
                draw.line(pts, fill=col, width=width, joint="curve")
            elif kind == "poly" and width_400:
                draw.polygon(pts, outline=col, width=width)
            elif kind == "poly":
                draw.polygon(pts, fill=col)
            elif kind in ("rect", "ellipse"):
                box = [min(pts[0][0], pts[1][0]), pts[0][1], max(pts[0][0], pts[1][0]), pts[1][1]]
                (draw.rectangle if kind == "rect" else draw.ellipse)(box, fill=col)
            else:  # dots: x, then y values
                x0 = (1 - coords[0] if mir else coords[0]) * w
                for y in coords[1:]:
                    draw.ellipse([x0 - width, y * h - width, x0 + width, y * h + width], fill=col)
    # Shading: a cylindrical falloff, soft folds rising from the hem, a darker outline.
    r = np.random.default_rng(zlib.crc32(repr(d).encode()))
    xs, ys = np.arange(w, dtype=np.float32) / w, np.arange(h, dtype=np.float32) / h
    shade = 1 - 0.16 * ((xs[None, :] - 0.5) / 0.5) ** 2 - 0.05 * ys[:, None]
    for _ in range(4):
        x0, sig, dep = r.uniform(0.25, 0.75), r.uniform(0.015, 0.045), r.uniform(0.05, 0.12)
        rise = np.clip((ys[:, None] - r.uniform(0.3, 0.7)) * 3, 0, 1)
        shade = shade - rise * (dep * np.exp(-(((xs[None, :] - x0) / sig) ** 2)))
    m = np.asarray(mask, np.float32) / 255
    inner = np.asarray(mask.filter(ImageFilter.BoxBlur(2)), np.float32) / 255
    shade = shade * (1 - 0.3 * np.clip(m - inner, 0, 0.5) * 2)
    light = Image.fromarray((shade * 255).clip(0, 255).astype(np.uint8))
    out = ImageChops.multiply(img, Image.merge("RGB", (light, light, light)))
    out.putalpha(mask)
    return out


def soft_shadow(alpha: Image.Image, radius: float) -> Image.Image:
    """Blurred alpha (computed at quarter resolution for speed).

    Args:
        alpha: An ``L`` image (a subject's alpha channel).
        radius: Gaussian blur radius, in pixels of ``alpha``.

    Returns:
        The blurred ``L`` image, the size of ``alpha``.
    """
    small = alpha.reduce(4).filter(ImageFilter.GaussianBlur(radius / 4))
    return small.resize(alpha.size, Image.Resampling.BILINEAR)
