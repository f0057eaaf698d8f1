"""The garment vocabulary and :class:`Design`, the seeded description of one garment's look.

Only data and the random draw live here; :mod:`include.synth.garment` draws a design and
:mod:`include.synth.apparel` / :mod:`include.synth.scene` photograph it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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
