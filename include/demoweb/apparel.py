"""Seeded synthetic apparel images: studio product shots and "consumer photo" views of the same garment.

Only numpy and Pillow. A :class:`Design` fully determines a garment's look (silhouette, colours, pattern,
colour-block feature). :func:`render_product` draws it as a catalog packshot and :func:`render_consumer_view`
as a street photo of the same garment (defocused background, placement, perspective, light, softness, noise),
reproducible from an rng.

Tuning note: with these settings a pretrained ImageNet ``tf_efficientnet_lite0`` finds a view's own product
among 1000 as its nearest neighbour about 70-80 % of the time (top-5: 87-94 %). Sharp tiled backgrounds read
as checked fabric and softly averaged plaids all look alike to such a network, so neither is used; strongly
periodic fabrics (stripes, checks) and plain colours remain the hardest cases.
"""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter

PALETTE: dict[str, tuple[int, int, int]] = {
    "Black": (28, 28, 30),
    "White": (244, 244, 240),
    "Grey": (128, 128, 132),
    "Navy": (30, 40, 88),
    "Royal blue": (42, 82, 190),
    "Sky blue": (125, 182, 230),
    "Red": (200, 32, 42),
    "Burgundy": (112, 22, 42),
    "Pink": (240, 150, 182),
    "Orange": (238, 122, 32),
    "Mustard": (214, 166, 42),
    "Yellow": (246, 222, 64),
    "Olive": (112, 116, 48),
    "Green": (40, 140, 72),
    "Teal": (22, 128, 130),
    "Purple": (112, 52, 142),
    "Lilac": (192, 162, 222),
    "Beige": (222, 202, 166),
    "Brown": (118, 76, 46),
    "Cream": (246, 236, 206),
}
PATTERNS = ("solid", "stripes", "dots", "checks", "print")
FEATURES = ("none", "yoke", "hem", "panel", "graphic", "sash")  # colour-block details in the accent colour
MOTIFS = ("floral", "geometric", "leaf", "star")
# Right halves of symmetric outlines in a unit box (x right, y down), mirrored about x = 0.5 when drawn.
SILHOUETTES: dict[str, list[tuple[float, float]]] = {
    "tshirt": [
        (0.5, 0.13),
        (0.6, 0.06),
        (0.78, 0.1),
        (0.97, 0.3),
        (0.87, 0.4),
        (0.77, 0.31),
        (0.77, 0.9),
        (0.5, 0.9),
    ],
    "shirt": [
        (0.5, 0.1),
        (0.6, 0.05),
        (0.78, 0.09),
        (0.96, 0.62),
        (0.86, 0.65),
        (0.76, 0.3),
        (0.76, 0.94),
        (0.5, 0.96),
    ],
    "dress": [
        (0.5, 0.1),
        (0.6, 0.04),
        (0.72, 0.07),
        (0.83, 0.2),
        (0.74, 0.25),
        (0.69, 0.22),
        (0.65, 0.42),
        (0.86, 0.97),
        (0.5, 0.98),
    ],
    "skirt": [(0.5, 0.22), (0.68, 0.22), (0.7, 0.28), (0.86, 0.84), (0.5, 0.87)],
    "trousers": [(0.5, 0.04), (0.72, 0.04), (0.77, 0.5), (0.79, 0.98), (0.6, 0.98), (0.5, 0.36)],
    "shorts": [(0.5, 0.2), (0.72, 0.2), (0.81, 0.56), (0.58, 0.61), (0.5, 0.45)],
    "jacket": [
        (0.5, 0.32),
        (0.61, 0.05),
        (0.8, 0.09),
        (0.97, 0.62),
        (0.87, 0.65),
        (0.79, 0.3),
        (0.8, 0.8),
        (0.5, 0.8),
    ],
    "hoodie": [
        (0.5, 0.02),
        (0.63, 0.03),
        (0.67, 0.11),
        (0.8, 0.16),
        (0.96, 0.6),
        (0.86, 0.63),
        (0.79, 0.34),
        (0.8, 0.84),
        (0.5, 0.84),
    ],
    "coat": [
        (0.5, 0.28),
        (0.6, 0.04),
        (0.79, 0.08),
        (0.95, 0.62),
        (0.85, 0.64),
        (0.77, 0.3),
        (0.83, 0.98),
        (0.5, 0.98),
    ],
    "tanktop": [(0.5, 0.2), (0.6, 0.02), (0.66, 0.02), (0.67, 0.18), (0.74, 0.3), (0.74, 0.86), (0.5, 0.86)],
}
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
_SKIN = [(241, 205, 178), (224, 172, 135), (190, 136, 98), (141, 92, 62), (95, 62, 44)]
_CANVAS = (300, 375)  # supersampled drawing canvas (w, h) of the unit box


@dataclass(frozen=True)
class Design:
    """A garment's complete look; equal designs render identically.

    Attributes:
        silhouette: Garment shape, a key of ``SILHOUETTES``.
        base: Main colour name (a key of ``PALETTE``).
        secondary: Trim and pattern colour name.
        pattern: One of ``PATTERNS``.
        orientation: Stripe direction: horizontal, vertical or diagonal.
        stripe_width: Typical stripe width, in pixels of a 400-px-wide garment box (0 unless striped).
        dot_radius: Typical dot radius, same unit (0 unless dotted).
        dot_spacing: Distance between dot cells, same unit (0 unless dotted).
        check_size: Typical check band width, same unit (0 unless checked).
        motif_seed: Seed of the print motifs and of each pattern's irregularities (stripe sequence, dot
            jitter, plaid bands) and of the graphic, so that no two designs share a fabric.
        accent: Third colour name, used by the pattern and the feature.
        feature: Colour-block detail in the accent colour, one of ``FEATURES``.
    """

    silhouette: str
    base: str
    secondary: str
    pattern: str = "solid"
    orientation: str = "horizontal"
    stripe_width: int = 0
    dot_radius: int = 0
    dot_spacing: int = 0
    check_size: int = 0
    motif_seed: int = 0
    accent: str = "White"
    feature: str = "none"

    @property
    def base_rgb(self) -> tuple[int, int, int]:
        """The base colour as RGB."""
        return PALETTE[self.base]

    @property
    def secondary_rgb(self) -> tuple[int, int, int]:
        """The secondary colour as RGB."""
        return PALETTE[self.secondary]

    @property
    def accent_rgb(self) -> tuple[int, int, int]:
        """The accent colour as RGB."""
        return PALETTE[self.accent]

    @property
    def motif(self) -> str:
        """The print motif family (meaningful only for the ``print`` pattern)."""
        return MOTIFS[self.motif_seed % len(MOTIFS)]


def _dist(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    return float(np.linalg.norm(np.subtract(a, b)))


def random_design(rng: np.random.Generator) -> Design:
    """Draw a random design.

    Args:
        rng: numpy random generator (consumed a fixed number of times per call).

    Returns:
        A new :class:`Design`; the secondary colour always contrasts with the base.
    """
    names = list(PALETTE)
    sil = str(rng.choice(list(SILHOUETTES)))
    base = names[int(rng.integers(len(names)))]
    far = [n for n in names if _dist(PALETTE[n], PALETTE[base]) > 110]
    sec = far[int(rng.integers(len(far)))]
    far = [n for n in names if min(_dist(PALETTE[n], PALETTE[base]), _dist(PALETTE[n], PALETTE[sec])) > 90]
    accent = far[int(rng.integers(len(far)))] if far else sec
    pattern = str(rng.choice(PATTERNS, p=[0.05, 0.25, 0.22, 0.08, 0.4]))
    orient = str(rng.choice(["horizontal", "vertical", "diagonal"], p=[0.5, 0.35, 0.15]))
    sw, dr, cs = int(rng.integers(14, 48)), int(rng.integers(8, 18)), int(rng.integers(18, 48))
    ms, ds = int(rng.integers(1, 10**6)), int(dr * rng.uniform(2.6, 4.2))
    feature = str(rng.choice(FEATURES, p=[0.3, 0.14, 0.14, 0.14, 0.14, 0.14]))
    if pattern == "solid" and feature == "none":
        feature = FEATURES[1 + ms % (len(FEATURES) - 1)]
    on = {p: pattern == p for p in PATTERNS}
    return Design(
        sil,
        base,
        sec,
        pattern,
        orient if on["stripes"] else "horizontal",
        sw * on["stripes"],
        dr * on["dots"],
        ds * on["dots"],
        cs * on["checks"],
        ms,
        accent,
        feature,
    )


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
def _garment(d: Design) -> Image.Image:
    """The garment on a transparent supersampled canvas (RGBA, ``_CANVAS`` sized, unit box = canvas)."""
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


def _soft_shadow(alpha: Image.Image, radius: float) -> Image.Image:
    """Blurred alpha (computed at quarter resolution for speed)."""
    small = alpha.reduce(4).filter(ImageFilter.GaussianBlur(radius / 4))
    return small.resize(alpha.size, Image.Resampling.BILINEAR)


def render_product(design: Design, size: tuple[int, int] = (256, 320)) -> Image.Image:
    """Studio product shot: the garment centred on a light background with a soft shadow.

    Args:
        design: The garment.
        size: Output (width, height) in pixels.

    Returns:
        An RGB image of ``size``.
    """
    g = _garment(design)
    g = g.crop(g.getbbox())
    w, h = size
    s = min(0.84 * w / g.width, 0.86 * h / g.height)
    g = g.resize((max(1, round(g.width * s)), max(1, round(g.height * s))), Image.Resampling.BILINEAR)
    x, y = (w - g.width) // 2, (h - g.height) // 2
    alpha = Image.new("L", size, 0)
    alpha.paste(g.getchannel("A"), (x + max(1, w // 60), y + max(1, h // 50)))
    shadow = np.asarray(_soft_shadow(alpha, w / 40), np.float32) / 255
    bg = np.linspace(248, 236, h, dtype=np.float32)[:, None] * (1 - 0.22 * shadow)
    canvas = Image.fromarray(bg.astype(np.uint8)).convert("RGB")
    canvas.paste(g, (x, y), g)
    return canvas


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
    shadow = _soft_shadow(placed.getchannel("A"), 6)
    shadow = ImageChops.offset(shadow, int(rng.integers(-6, 7)), int(rng.integers(2, 9)))
    scene.paste((0, 0, 0), (0, 0, *size), shadow.point(lambda v: round(0.35 * v)))
    scene.paste(placed, (0, 0), placed)
    return _sensor(_light(scene, rng), rng)


def _subject_of_design(d: Design, rng: np.random.Generator) -> tuple[Image.Image, np.ndarray]:
    """The garment, sometimes worn (head and neck above tops, legs below hems), and its own pixel samples."""
    g = _garment(d)
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
    ya, xa = np.nonzero(~outside[::2, ::2])
    if len(xa) == 0:
        ya, xa = np.mgrid[0 : img.height : 4, 0 : img.width : 4].reshape(2, -1) // 2
    return _compose_view(subject, np.c_[xa * 2, ya * 2].astype(float), rng, size)


def jpeg_bytes(img: Image.Image, quality: int = 90) -> bytes:
    """Encode an image as baseline JPEG.

    Args:
        img: Any PIL image (converted to RGB).
        quality: JPEG quality 1-95.

    Returns:
        The JPEG file bytes.
    """
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="JPEG", quality=int(quality))
    return buf.getvalue()
