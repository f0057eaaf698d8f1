"""Images to L2-normalised vectors with a timm backbone (CPU, or CUDA when present)."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Sequence

import numpy as np
from PIL import Image

from training.backbones import Preprocessing, create_backbone, preprocessing_for

log = logging.getLogger(__name__)


class EmbeddingError(RuntimeError):
    """An image could not be embedded."""


def resolve_device(device: str = "auto") -> str:
    """``auto`` → ``cuda`` when a GPU is present, else ``cpu``."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


COLOUR_BINS = 4  # per RGB channel: a 64-bin colour histogram


def to_array(image: Image.Image, prep: Preprocessing) -> np.ndarray:
    """Decoded image → normalised CHW float32 array (RGB, bicubic resize to ``prep.size`` squared)."""
    image = image.convert("RGB").resize((prep.size, prep.size), Image.Resampling.BICUBIC)
    arr = np.asarray(image, dtype=np.float32) / 255.0
    arr = (arr - np.asarray(prep.mean, np.float32)) / np.asarray(prep.std, np.float32)
    return np.ascontiguousarray(arr.transpose(2, 0, 1))


def colour_histogram(chw: np.ndarray, prep: Preprocessing) -> np.ndarray:
    """Unit-length square-rooted 64-bin RGB histogram of the central 60 % of a model input array.

    ImageNet features are nearly colour-blind, while a garment's colour is half of its design: appending
    this histogram (weighted by ``colour_weight``) makes retrieval tell a navy top from a white one.
    """
    rgb = chw.transpose(1, 2, 0) * np.asarray(prep.std, np.float32) + np.asarray(prep.mean, np.float32)
    side = rgb.shape[0]
    lo, hi = int(side * 0.2), int(side * 0.8)
    pixels = np.clip((rgb[lo:hi, lo:hi].reshape(-1, 3) * COLOUR_BINS).astype(np.int64), 0, COLOUR_BINS - 1)
    index = (pixels[:, 0] * COLOUR_BINS + pixels[:, 1]) * COLOUR_BINS + pixels[:, 2]
    hist = np.sqrt(np.bincount(index, minlength=COLOUR_BINS**3).astype(np.float32))
    return hist / max(float(np.linalg.norm(hist)), 1e-12)


def decode(data: bytes, prep: Preprocessing) -> np.ndarray:
    """Encoded image bytes → model input array; ``EmbeddingError`` when they do not decode."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return to_array(image, prep)
    except Exception as exc:
        raise EmbeddingError(f"image does not decode: {exc}") from exc


class Encoder:
    """A frozen backbone that embeds batches of images.

    Args:
        model_name: timm model name.
        pretrained: Load ImageNet weights (offline for the lite family).
        device: ``auto``, ``cpu`` or ``cuda``.
        batch_size: Images per forward pass.
        colour_weight: Weight of the colour histogram appended to the backbone's features (0: none).
    """

    def __init__(
        self,
        model_name: str = "tf_efficientnet_lite0",
        pretrained: bool = True,
        device: str = "auto",
        batch_size: int = 32,
        colour_weight: float = 0.0,
    ) -> None:
        import torch

        self.device = resolve_device(device)
        self.batch_size = batch_size
        self.model_name = model_name
        self.prep = preprocessing_for(model_name)
        self.model = create_backbone(model_name, pretrained).to(self.device)
        self.model = self.model.to(memory_format=torch.channels_last)
        self.colour_weight = float(colour_weight)
        self.dim = int(self.model.num_features) + (COLOUR_BINS**3 if self.colour_weight > 0 else 0)

    def forward(self, batch: np.ndarray) -> np.ndarray:
        """Embed a preprocessed ``(N, 3, H, W)`` batch; returns unit-length ``(N, dim)`` float32 vectors."""
        import torch

        with torch.inference_mode():
            x = torch.from_numpy(batch).to(self.device).contiguous(memory_format=torch.channels_last)
            if self.device.startswith("cuda"):
                with torch.autocast("cuda", dtype=torch.bfloat16):
                    y = self.model(x)
            else:
                y = self.model(x)
            y = torch.nn.functional.normalize(y.float(), dim=1)
        vectors = y.cpu().numpy().astype(np.float32)
        if self.colour_weight > 0:
            hists = np.stack([colour_histogram(chw, self.prep) for chw in batch]) * self.colour_weight
            vectors = np.hstack([vectors, hists])
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors

    def embed_bytes(
        self,
        items: Sequence[bytes],
        on_error: Callable[[int, Exception], None] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[np.ndarray, list[int]]:
        """Embed encoded images.

        Args:
            items: Encoded image bytes.
            on_error: Called with (index, error) for an image that does not decode; it is skipped.
            progress: Called with the number of images done after each batch.

        Returns:
            The vectors of the images that decoded, and their indices in ``items``.
        """
        vectors: list[np.ndarray] = []
        kept: list[int] = []
        pending: list[np.ndarray] = []
        pending_idx: list[int] = []
        for i, data in enumerate(items):
            try:
                pending.append(decode(data, self.prep))
                pending_idx.append(i)
            except EmbeddingError as exc:
                if on_error is None:
                    raise
                on_error(i, exc)
            if len(pending) == self.batch_size or (i == len(items) - 1 and pending):
                vectors.append(self.forward(np.stack(pending)))
                kept.extend(pending_idx)
                if progress:
                    progress(len(pending))
                pending, pending_idx = [], []
        if not vectors:
            return np.zeros((0, self.dim), np.float32), []
        return np.concatenate(vectors), kept
