"""Image transforms (torchvision v2): evaluation resize, and augmentations that make shop photos consumer-like."""

from __future__ import annotations

import torch
from torchvision.transforms import InterpolationMode, v2

from training.backbones import preprocessing_for


def _normalise(model_name: str) -> list:
    prep = preprocessing_for(model_name)
    return [v2.ToDtype(torch.float32, scale=True), v2.Normalize(list(prep.mean), list(prep.std))]


def eval_transform(model_name: str, size: int) -> v2.Compose:
    """Square bicubic resize and the backbone's normalisation (what the embedding service does)."""
    return v2.Compose(
        [v2.ToImage(), v2.Resize((size, size), InterpolationMode.BICUBIC, antialias=True), *_normalise(model_name)]
    )


def consumer_transform(model_name: str, size: int) -> v2.Compose:
    """A shop photo as a consumer might take it: crop/zoom, perspective, tilt, colour cast, blur, flip."""
    return v2.Compose(
        [
            v2.ToImage(),
            v2.RandomResizedCrop((size, size), scale=(0.45, 1.0), ratio=(0.75, 1.33), antialias=True),
            v2.RandomPerspective(distortion_scale=0.3, p=0.5, fill=128),
            v2.RandomRotation(10, fill=128),
            v2.ColorJitter(brightness=0.3, contrast=0.3, saturation=0.25, hue=0.03),
            v2.RandomApply([v2.GaussianBlur(5, sigma=(0.1, 1.8))], p=0.4),
            v2.RandomHorizontalFlip(),
            *_normalise(model_name),
        ]
    )


def light_transform(model_name: str, size: int) -> v2.Compose:
    """Mild augmentation for images that already are consumer photos (or shop images kept as they are)."""
    return v2.Compose(
        [
            v2.ToImage(),
            v2.RandomResizedCrop((size, size), scale=(0.75, 1.0), ratio=(0.8, 1.25), antialias=True),
            v2.ColorJitter(brightness=0.1, contrast=0.1),
            v2.RandomHorizontalFlip(),
            *_normalise(model_name),
        ]
    )
