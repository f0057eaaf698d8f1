"""One aspect-preserving square fit and one colour histogram, shared by training, evaluation and serving.

A photo is never squashed: ``pad`` scales its longer side to the square and fills the rest with white (the studio
background of product photos, so a padded catalog image looks like the catalog), ``crop`` scales its shorter side
and keeps the centre. Training transforms (``training.transforms``), evaluation (``training.evaluate``) and the
embedding service (``embedding.pixels`` on the CPU, ``embedding.device_decode`` on a GPU) all take their geometry
from :func:`fit_geometry`, so the model sees the same input in all three.

The colour histogram is taken from the garment, not the backdrop: of the central 60 % of the fitted square only
the pixels that are not studio white (the pad, a product photo's background) count, unless too few remain (a white
garment on white), when every pixel of that area counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

FITS = ("pad", "crop")
FILL = 255  # the pad's value in every channel: studio white
COLOUR_BINS = 4  # per RGB channel: a 64-bin colour histogram
STUDIO_WHITE = 248  # a pixel whose every channel is at least this is backdrop, not garment
MIN_GARMENT_SHARE = 0.05  # below this share of non-white pixels the histogram takes every pixel


@dataclass(frozen=True)
class Fit:
    """Where a ``width x height`` image goes in the square: ``crop`` (left, top, right, bottom) of the source,
    resized to ``size`` (width, height) and pasted at ``offset`` (x, y) of the ``side``-square."""

    crop: tuple[int, int, int, int]
    size: tuple[int, int]
    offset: tuple[int, int]
    side: int

    @property
    def box(self) -> tuple[int, int, int, int]:
        """The content's rectangle in the square (left, top, right, bottom)."""
        x, y = self.offset
        return x, y, x + self.size[0], y + self.size[1]


def fit_geometry(width: int, height: int, side: int, mode: str = "pad") -> Fit:
    """The aspect-preserving fit of a ``width x height`` image into a ``side``-square.

    Raises:
        ValueError: an unknown mode or an empty image.
    """
    if mode not in FITS:
        raise ValueError(f"image fit must be one of {FITS}, not {mode!r}")
    if width < 1 or height < 1:
        raise ValueError(f"empty image ({width}x{height})")
    if mode == "pad":
        scale = side / max(width, height)
        w, h = max(1, round(width * scale)), max(1, round(height * scale))
        return Fit((0, 0, width, height), (w, h), ((side - w) // 2, (side - h) // 2), side)
    short = min(width, height)
    left, top = (width - short) // 2, (height - short) // 2
    return Fit((left, top, left + short, top + short), (side, side), (0, 0), side)


def fit_image(image: Image.Image, side: int, mode: str = "pad") -> Image.Image:
    """An RGB ``side``-square of ``image``: bicubic, aspect kept (:func:`fit_geometry`), white pad."""
    image = image.convert("RGB")
    fit = fit_geometry(image.width, image.height, side, mode)
    if fit.crop != (0, 0, image.width, image.height):
        image = image.crop(fit.crop)
    if image.size != fit.size:
        image = image.resize(fit.size, Image.Resampling.BICUBIC)
    if fit.size == (side, side):
        return image
    canvas = Image.new("RGB", (side, side), (FILL, FILL, FILL))
    canvas.paste(image, fit.offset)
    return canvas


class FitSquare:
    """A picklable transform (DataLoader workers): PIL image -> :func:`fit_image` square."""

    def __init__(self, side: int, mode: str = "pad") -> None:
        fit_geometry(1, 1, side, mode)  # validates the mode
        self.side, self.mode = side, mode

    def __call__(self, image: Image.Image) -> Image.Image:
        return fit_image(image, self.side, self.mode)

    def __repr__(self) -> str:
        return f"FitSquare({self.side}, {self.mode!r})"


def garment_pixels(chw: np.ndarray) -> np.ndarray:
    """``(3, K)`` uint8 pixels of the central 60 % of a ``(3, S, S)`` square the histogram counts (see module)."""
    side = chw.shape[1]
    lo, hi = int(side * 0.2), int(side * 0.8)
    pixels = chw[:, lo:hi, lo:hi].reshape(3, -1)
    garment = pixels.min(axis=0) < STUDIO_WHITE
    return pixels[:, garment] if garment.sum() >= MIN_GARMENT_SHARE * pixels.shape[1] else pixels


def colour_histogram_u8(chw: np.ndarray) -> np.ndarray:
    """Unit-length square-rooted 64-bin RGB histogram (bin ``floor(v * 4 / 256)`` per channel) of the garment
    pixels (:func:`garment_pixels`) of a uint8 ``(3, S, S)`` square."""
    bins = (garment_pixels(chw).astype(np.int32) * COLOUR_BINS) >> 8
    index = (bins[0] * COLOUR_BINS + bins[1]) * COLOUR_BINS + bins[2]
    hist = np.sqrt(np.bincount(index, minlength=COLOUR_BINS**3).astype(np.float32))
    return hist / max(float(np.linalg.norm(hist)), 1e-12)


def with_colour(features: np.ndarray, hists: np.ndarray, weight: float) -> np.ndarray:
    """The served vector: unit ``features`` with ``hists * weight`` appended, unit length again (``weight`` 0:
    the features alone)."""
    features = features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)
    if weight <= 0:
        return features.astype(np.float32)
    vectors = np.hstack([features, hists * weight]).astype(np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
