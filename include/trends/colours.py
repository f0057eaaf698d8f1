"""Dominant colours of a garment photo, as named colours.

The background is the median colour of the image border (packshots sit on a plain light ground); pixels close
to it are not garment. The remaining pixels are mapped to the nearest named colour in CIELAB, and names covering
at least ``min_share`` of the garment are returned, most common first.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

NAMED_COLOURS: dict[str, tuple[int, int, int]] = {
    "black": (28, 28, 30), "white": (244, 244, 240), "grey": (128, 128, 132), "navy": (30, 40, 88),
    "blue": (42, 82, 190), "light blue": (125, 182, 230), "red": (200, 32, 42), "burgundy": (112, 22, 42),
    "pink": (240, 150, 182), "orange": (238, 122, 32), "mustard": (214, 166, 42), "yellow": (246, 222, 64),
    "olive": (112, 116, 48), "green": (40, 140, 72), "teal": (22, 128, 130), "purple": (112, 52, 142),
    "lilac": (192, 162, 222), "beige": (222, 202, 166), "brown": (118, 76, 46), "cream": (246, 236, 206),
}  # fmt: skip


def to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB (0-255, ... x 3) to CIELAB (D65)."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    c = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    xyz = c @ np.array([[0.4124, 0.2126, 0.0193], [0.3576, 0.7152, 0.1192], [0.1805, 0.0722, 0.9505]])
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


_NAMES = list(NAMED_COLOURS)
_LAB = to_lab(np.array([NAMED_COLOURS[n] for n in _NAMES]))


def nearest_name(rgb: tuple[int, int, int]) -> str:
    """The named colour closest to ``rgb``."""
    return _NAMES[int(np.argmin(((_LAB - to_lab(np.array(rgb))) ** 2).sum(-1)))]


def dominant_colours(
    data: bytes, top: int = 3, min_share: float = 0.12, background_distance: float = 12.0
) -> list[tuple[str, float]]:
    """Named colours of the garment in a JPEG/PNG, with their share of garment pixels.

    Args:
        data: Image bytes.
        top: At most this many names.
        min_share: Names covering less of the garment are dropped.
        background_distance: CIELAB distance under which a pixel counts as background.

    Returns:
        ``[(name, share), ...]`` most common first (empty when the image cannot be read).
    """
    try:
        with Image.open(io.BytesIO(data)) as img:
            img = img.convert("RGB")
            scale = min(1.0, 128 / max(img.size))  # nearest neighbour: no blending of stripes into grey
            img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.NEAREST)
            pixels = np.asarray(img, dtype=np.float64)
    except OSError:
        return []
    lab = to_lab(pixels)
    border = np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]])
    background = np.median(border, axis=0)
    flat = lab.reshape(-1, 3)
    garment = flat[np.linalg.norm(flat - background, axis=1) > background_distance]
    if len(garment) < 0.02 * len(flat):  # nothing stands out: the whole picture is the garment
        garment = flat
    names = np.argmin(((garment[:, None, :] - _LAB[None]) ** 2).sum(-1), axis=1)
    counts = np.bincount(names, minlength=len(_NAMES)) / len(garment)
    order = sorted(range(len(_NAMES)), key=lambda i: (-counts[i], _NAMES[i]))
    return [(_NAMES[i], round(float(counts[i]), 3)) for i in order[:top] if counts[i] >= min_share]
