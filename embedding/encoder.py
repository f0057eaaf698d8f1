"""Images to L2-normalised vectors with a timm backbone or a trained embedder (CPU, or CUDA when present)."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from training.backbones import Preprocessing, create_backbone, output_features, preprocessing_for

if TYPE_CHECKING:
    from torch.utils.data import DataLoader

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


def to_pixels(image: Image.Image, prep: Preprocessing) -> np.ndarray:
    """Decoded image → CHW uint8 RGB array, bicubic-resized to ``prep.size`` squared (not yet normalised).

    The loader's workers hand these to the model's process: a quarter of the bytes of float32, and normalising a
    whole batch there (on the GPU when present) is cheaper than image by image in NumPy.
    """
    image = image.convert("RGB").resize((prep.size, prep.size), Image.Resampling.BICUBIC)
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
    """Decoded image → normalised CHW float32 array (RGB, bicubic resize to ``prep.size`` squared)."""
    return normalise(to_pixels(image, prep), prep)


def colour_histogram(chw: np.ndarray, prep: Preprocessing) -> np.ndarray:
    """Unit-length square-rooted 64-bin RGB histogram of the central 60 % of a model input array.

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
    side = chw.shape[1]
    lo, hi = int(side * 0.2), int(side * 0.8)
    bins = (chw[:, lo:hi, lo:hi].reshape(3, -1).astype(np.int32) * COLOUR_BINS) >> 8
    index = (bins[0] * COLOUR_BINS + bins[1]) * COLOUR_BINS + bins[2]
    hist = np.sqrt(np.bincount(index, minlength=COLOUR_BINS**3).astype(np.float32))
    return hist / max(float(np.linalg.norm(hist)), 1e-12)


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


class Encoder:
    """A frozen model that embeds batches of images into unit vectors, with the colour histogram appended.

    Args:
        model_name: timm model name (also names the preprocessing).
        pretrained: Load ImageNet weights (offline for the lite family) when no ``model`` is given.
        device: ``auto``, ``cpu`` or ``cuda``.
        batch_size: Images per forward pass.
        colour_weight: Weight of the colour histogram appended to the model's features (0: none).
        model: A trained embedder (``training.registry.load_embedder``) used instead of the pretrained backbone.
        feature_dim: The trained embedder's output width (``embedding_dim`` of its card).
        image_size: Input side when it differs from the backbone's default (``image_size`` of the card).
        version: Model version id; default ``imagenet-<model_name>`` (the pretrained backbone).
        workers: DataLoader worker processes decoding images (0: decode in this process; -1: auto).
    """

    def __init__(
        self,
        model_name: str = "tf_efficientnet_lite0",
        pretrained: bool = True,
        device: str = "auto",
        batch_size: int = 32,
        colour_weight: float = 0.0,
        *,
        model: Any = None,
        feature_dim: int | None = None,
        image_size: int | None = None,
        version: str | None = None,
        workers: int = 0,
    ) -> None:
        import torch

        self.device = resolve_device(device)
        self.batch_size = batch_size
        self.workers = workers
        self.model_name = model_name
        self.version = version or f"imagenet-{model_name}"
        prep = preprocessing_for(model_name)
        self.prep = replace(prep, size=image_size) if image_size else prep
        self.model = (model if model is not None else create_backbone(model_name, pretrained)).eval()
        self.model = self.model.to(self.device).to(memory_format=torch.channels_last)
        features = feature_dim if model is not None and feature_dim else _width(self.model)
        if features is None:
            raise EmbeddingError(f"{self.version}: the embedder's output width is unknown (give feature_dim)")
        self.colour_weight = float(colour_weight)
        self.dim = int(features) + (COLOUR_BINS**3 if self.colour_weight > 0 else 0)

    def forward(self, batch: Any, hists: np.ndarray | None = None) -> np.ndarray:
        """Embed a ``(N, 3, H, W)`` batch (array or tensor); returns unit ``(N, dim)`` float32.

        Args:
            batch: uint8 pixels (:func:`to_pixels`; normalised here, on the model's device) or normalised float
                inputs (:func:`to_array`).
            hists: Their colour histograms when already computed (by the loader's workers).
        """
        import torch

        with torch.inference_mode():
            x = batch if isinstance(batch, torch.Tensor) else torch.from_numpy(batch)
            x = normalise(x.to(self.device, non_blocking=True), self.prep)
            x = x.contiguous(memory_format=torch.channels_last)
            if self.device.startswith("cuda"):
                with torch.autocast("cuda", dtype=torch.bfloat16):
                    y = self.model(x)
            else:
                y = self.model(x)
            y = torch.nn.functional.normalize(y.float(), dim=1)
        vectors = y.cpu().numpy().astype(np.float32)
        if self.colour_weight > 0:
            if hists is None:
                arrays = batch.numpy() if isinstance(batch, torch.Tensor) else batch
                hists = np.stack([colour_histogram(chw, self.prep) for chw in arrays])
            vectors = np.hstack([vectors, hists * self.colour_weight])
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors

    def loader(
        self, items: Sequence[Any], read: Callable[[Any], bytes] | None = None, workers: int | None = None
    ) -> DataLoader:
        """The DataLoader of :meth:`embed_stream`: batches of decoded uint8 pixels (``embedding.loader.Batch``).

        Args:
            items: Encoded image bytes, or keys that ``read`` turns into bytes (in the worker).
            read: Picklable ``item -> bytes`` (``embedding.loader.LakeReader``); None when items are bytes.
            workers: Decoding processes (default: the encoder's ``workers``; -1: auto).
        """
        from embedding.loader import ImageDataset, auto_workers, make_loader

        workers = self.workers if workers is None else workers
        workers = auto_workers(self.device) if workers < 0 else workers
        dataset = ImageDataset(items, self.prep, read)
        return make_loader(dataset, self.batch_size, workers, pin_memory=self.device.startswith("cuda"))

    def embed_stream(
        self, items: Sequence[Any], read: Callable[[Any], bytes] | None = None, workers: int | None = None
    ) -> Iterator[tuple[list[int], np.ndarray, list[tuple[int, str]]]]:
        """Embed items batch by batch through a DataLoader whose workers read and decode.

        Args:
            items: Encoded image bytes, or keys that ``read`` turns into bytes (in the worker).
            read: Picklable ``item -> bytes`` (``embedding.loader.LakeReader``); None when items are bytes.
            workers: Decoding processes (default: the encoder's ``workers``).

        Yields:
            Per batch: positions in ``items`` of the images embedded, their vectors, and ``(position, error)``
            of the images that did not decode.
        """
        for batch in self.loader(items, read, workers):
            empty = np.zeros((0, self.dim), np.float32)
            yield batch.indices, (self.forward(batch.pixels, batch.hists) if batch.indices else empty), batch.errors

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

        Raises:
            EmbeddingError: an image does not decode and no ``on_error`` was given.
        """
        vectors: list[np.ndarray] = []
        kept: list[int] = []
        for indices, batch_vectors, errors in self.embed_stream(items):
            for i, message in errors:
                if on_error is None:
                    raise EmbeddingError(f"image {i} does not decode: {message}")
                on_error(i, EmbeddingError(message))
            vectors.append(batch_vectors)
            kept.extend(indices)
            if progress:
                progress(len(indices) + len(errors))
        if not kept:
            return np.zeros((0, self.dim), np.float32), []
        return np.concatenate(vectors), kept


def _width(model: Any) -> int | None:
    """Output width of a timm backbone (``head_hidden_size`` where a head follows pooling), else None."""
    return output_features(model) if hasattr(model, "num_features") else None
