"""Image transforms (torchvision v2): evaluation fit, and augmentations that make shop photos consumer-like.

Every transform starts with the aspect-preserving square fit the embedding service uses
(:class:`include.core.imagefit.FitSquare`: white pad or centre crop, never a squash); the random crops after it
are square, so no augmentation changes a garment's proportions either.
"""

from __future__ import annotations

import numpy as np
import torch
from torchvision.transforms import v2

from include.core.imagefit import FitSquare, colour_histogram_u8
from training.backbones import preprocessing_for


def _normalise(model_name: str) -> list:
    prep = preprocessing_for(model_name)
    return [v2.ToDtype(torch.float32, scale=True), v2.Normalize(list(prep.mean), list(prep.std))]


def eval_transform(model_name: str, size: int, fit: str = "pad") -> v2.Compose:
    """The square fit and the backbone's normalisation (what the embedding service does)."""
    return v2.Compose([FitSquare(size, fit), v2.ToImage(), *_normalise(model_name)])


class ServedTransform:
    """Evaluation input and colour histogram of one image, as the embedding service computes both: the image
    fitted once, its uint8 pixels give the histogram (:func:`include.core.imagefit.colour_histogram_u8`) and,
    normalised, the model's input. Returns ``(input, histogram)`` tensors (default collation stacks both)."""

    def __init__(self, model_name: str, size: int, fit: str = "pad") -> None:
        self.fit = FitSquare(size, fit)
        self.normalise = v2.Compose([v2.ToImage(), *_normalise(model_name)])

    def __call__(self, image) -> tuple[torch.Tensor, torch.Tensor]:
        square = self.fit(image)
        hist = colour_histogram_u8(np.ascontiguousarray(np.asarray(square, np.uint8).transpose(2, 0, 1)))
        return self.normalise(square), torch.from_numpy(hist)


def consumer_transform(model_name: str, size: int, fit: str = "pad") -> v2.Compose:
    """A shop photo as a consumer might take it: crop/zoom, perspective, tilt, colour cast, blur, flip."""
    return v2.Compose(
        [
            FitSquare(size, fit),
            v2.ToImage(),
            v2.RandomResizedCrop((size, size), scale=(0.45, 1.0), ratio=(1.0, 1.0), antialias=True),
            v2.RandomPerspective(distortion_scale=0.3, p=0.5, fill=128),
            v2.RandomRotation(10, fill=128),
            v2.ColorJitter(brightness=0.3, contrast=0.3, saturation=0.25, hue=0.03),
            v2.RandomApply([v2.GaussianBlur(5, sigma=(0.1, 1.8))], p=0.4),
            v2.RandomHorizontalFlip(),
            *_normalise(model_name),
        ]
    )


def light_transform(model_name: str, size: int, fit: str = "pad") -> v2.Compose:
    """Mild augmentation for images that already are consumer photos (or shop images kept as they are)."""
    return v2.Compose(
        [
            FitSquare(size, fit),
            v2.ToImage(),
            v2.RandomResizedCrop((size, size), scale=(0.75, 1.0), ratio=(1.0, 1.0), antialias=True),
            v2.ColorJitter(brightness=0.1, contrast=0.1),
            v2.RandomHorizontalFlip(),
            *_normalise(model_name),
        ]
    )


__all__ = ["ServedTransform", "consumer_transform", "eval_transform", "light_transform"]
