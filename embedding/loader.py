"""A torch DataLoader whose worker processes read, decode and resize images (and take their colour histogram).

The model's process then only stacks ready tensors and runs the forward pass, so decoding overlaps inference.
An image that does not decode is reported by its position and left out of the batch, never raised in a worker.
Workers read the lake themselves (a local folder or a fresh S3 client per worker), so no image bytes travel
between processes; only the decoded pixels do (uint8 at the model's input size, a quarter of float32's bytes;
the model's process normalises whole batches, on the GPU when present).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from embedding.pixels import colour_histogram, decode_pixels
from training.backbones import Preprocessing

log = logging.getLogger(__name__)


@dataclass
class Batch:
    """One collated batch: the positions of the images that decoded, their inputs, and the failures."""

    indices: list[int]
    pixels: Any  # torch.Tensor (N, 3, S, S) uint8, normalised by the model's process (Encoder.forward)
    hists: np.ndarray  # (N, 64)
    errors: list[tuple[int, str]]


class LakeReader:
    """Picklable ``key -> bytes`` over a lake: each worker process opens its own client on first use."""

    def __init__(self, lake: Any) -> None:
        from include.core.lake import S3Lake

        self._lake = None if isinstance(lake, S3Lake) else lake
        self._spec = (lake.uri(""), lake.client.meta.endpoint_url) if isinstance(lake, S3Lake) else None

    def __getstate__(self) -> dict[str, Any]:
        return {"_lake": self._lake, "_spec": self._spec}

    def __call__(self, key: str) -> bytes:
        if self._lake is None:
            from include.core.lake import open_lake

            self._lake = open_lake(*self._spec)
        return self._lake.read_bytes(key)


class ImageDataset:
    """Items (lake keys, or bytes with ``read=None``) to model inputs, decoded in whichever process asks."""

    def __init__(self, items: Sequence[Any], prep: Preprocessing, read: Callable[[Any], bytes] | None = None):
        self.items, self.prep, self.read = items, prep, read

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> tuple[int, np.ndarray | None, np.ndarray | None, str | None]:
        try:
            data = self.read(self.items[i]) if self.read else self.items[i]
            chw = decode_pixels(data, self.prep)
            return i, chw, colour_histogram(chw, self.prep), None
        except Exception as exc:  # a bad image is a counted skip, reported to the caller
            return i, None, None, f"{type(exc).__name__}: {exc}"


def collate(samples: list[tuple[int, np.ndarray | None, np.ndarray | None, str | None]]) -> Batch:
    """Stack the images that decoded; keep the failures aside."""
    import torch

    good = [s for s in samples if s[3] is None]
    errors = [(s[0], s[3]) for s in samples if s[3] is not None]
    if not good:
        return Batch([], torch.zeros(0), np.zeros((0, 64), np.float32), errors)
    pixels = torch.from_numpy(np.stack([s[1] for s in good]))
    return Batch([s[0] for s in good], pixels, np.stack([s[2] for s in good]), errors)


def auto_workers(device: str, cpus: int | None = None) -> int:
    """Decoding processes for ``FTI_EMBED_WORKERS=-1``.

    On CPU the model's own threads already use every core, so a decoding process only competes with them: on up
    to 4 cores decoding stays inline (0); above, one worker per 4 cores. On CUDA the CPU is otherwise idle and
    decoding is the bottleneck: every core but one decodes (at most 16).
    """
    cpus = cpus or len(os.sched_getaffinity(0))
    if device.startswith("cuda"):
        return max(1, min(16, cpus - 1))
    return 0 if cpus <= 4 else cpus // 4


def make_loader(dataset: ImageDataset, batch_size: int, workers: int, pin_memory: bool = False):
    """An ordered DataLoader over ``dataset`` with ``workers`` decoding processes (0: in this process)."""
    from torch.utils.data import DataLoader

    workers = min(workers, max(1, len(dataset) // max(1, batch_size)))  # no idle workers for a small job
    return DataLoader(
        dataset, batch_size=batch_size, shuffle=False, num_workers=workers, collate_fn=collate,
        pin_memory=pin_memory, prefetch_factor=4 if workers else None, persistent_workers=False,
    )  # fmt: skip
