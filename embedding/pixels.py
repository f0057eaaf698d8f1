"""Image bytes to model inputs: decoding, the aspect of the resize, normalisation and the colour histogram.

Shared by the encoder (inline decoding) and the DataLoader's worker processes (:mod:`embedding.loader`): workers
ship uint8 pixels, the model's process normalises whole batches.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from PIL import Image

from include.core.imagefit import COLOUR_BINS, colour_histogram_u8, fit_image
from training.backbones import Preprocessing


class EmbeddingError(RuntimeError):
    """An image could not be embedded."""


__all__ = ["COLOUR_BINS", "EmbeddingError", "colour_histogram", "decode", "decode_pixels", "normalise", "to_pixels"]


def to_pixels(image: Image.Image, prep: Preprocessing) -> np.ndarray:
    """Decoded image → CHW uint8 RGB array, fitted to a ``prep.size`` square (not yet normalised): bicubic, the
    aspect kept (``prep.fit``: white pad or centre crop, :func:`include.core.imagefit.fit_image`), never squashed.

    The loader's workers hand these to the model's process: a quarter of the bytes of float32, and normalising a
    whole batch there (on the GPU when present) is cheaper than image by image in NumPy.
    """
    image = fit_image(image, prep.size, prep.fit)
    return np.ascontiguousarray(np.asarray(image, dtype=np.uint8).transpose(2, 0, 1))


def _scale_offset(prep: Preprocessing) -> tuple[np.ndarray, np.ndarray]:
    """``x * scale + offset`` == ``(x / 255 - mean) / std`` per channel, shaped ``(3, 1, 1)``."""
    mean, std = np.asarray(prep.mean, np.float32), np.asarray(prep.std, np.float32)
    return (1.0 / (255.0 * std)).reshape(3, 1, 1), (-mean / std).reshape(3, 1, 1)


def normalise(pixels: Any, prep: Preprocessing) -> Any:
    """uint8 ``(…, 3, H, W)`` pixels → float32 model input ``(x/255 - mean) / std``; a torch tensor stays one
    (and on its device), an array stays an array. Float input is returned as it is (already normalised)."""
    scale, offset = _scale_offset(prep)
    if isinstance(pixels, np.ndarray):
        return pixels if pixels.dtype != np.uint8 else pixels.astype(np.float32) * scale + offset
    import torch

    if pixels.dtype != torch.uint8:
        return pixels
    scale_t, offset_t = (torch.from_numpy(a).to(pixels.device) for a in (scale, offset))
    return pixels.to(torch.float32).mul_(scale_t).add_(offset_t)


def to_array(image: Image.Image, prep: Preprocessing) -> np.ndarray:
    """Decoded image → normalised CHW float32 array (:func:`to_pixels`, then :func:`normalise`)."""
    return normalise(to_pixels(image, prep), prep)


def colour_histogram(chw: np.ndarray, prep: Preprocessing) -> np.ndarray:
    """Unit-length square-rooted 64-bin RGB histogram of the garment pixels of a model input array: the central
    60 % of the square less its studio-white pixels (:func:`include.core.imagefit.colour_histogram_u8`).

    ImageNet features are nearly colour-blind, while a garment's colour is half of its design: appending
    this histogram (weighted by ``colour_weight``) makes retrieval tell a navy top from a white one.

    Args:
        chw: uint8 pixels (:func:`to_pixels`) or the normalised float input (:func:`to_array`); both give the
            same histogram (bin ``floor(v * 4 / 256)`` of each 0-255 channel value).
        prep: The normalisation of a float input.
    """
    if chw.dtype != np.uint8:
        mean, std = np.asarray(prep.mean, np.float32), np.asarray(prep.std, np.float32)
        rgb = chw * std.reshape(3, 1, 1) + mean.reshape(3, 1, 1)
        chw = np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.uint8)
    return colour_histogram_u8(chw)


def decode_pixels(data: bytes, prep: Preprocessing) -> np.ndarray:
    """Encoded image bytes → CHW uint8 pixels at the model's input size; ``EmbeddingError`` when they do not
    decode.

    JPEGs are decoded at the smallest DCT scale still at least the model's input size (``Image.draft``), which
    makes decoding a large photo several times cheaper before the bicubic resize.
    """
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.draft("RGB", (prep.size, prep.size))
            return to_pixels(image, prep)
    except Exception as exc:
        raise EmbeddingError(f"image does not decode: {exc}") from exc


def decode(data: bytes, prep: Preprocessing) -> np.ndarray:
    """Encoded image bytes → normalised float32 model input (:func:`decode_pixels`, then :func:`normalise`)."""
    return normalise(decode_pixels(data, prep), prep)
