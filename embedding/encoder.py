"""Images to L2-normalised vectors with a timm backbone or a trained embedder (CPU, or CUDA when present)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from embedding.pixels import COLOUR_BINS, EmbeddingError, colour_histogram, normalise
from include.core.imagefit import fit_geometry
from training.backbones import create_backbone, output_features, preprocessing_for, resolve_device

if TYPE_CHECKING:
    from torch.utils.data import DataLoader

    from embedding.device_decode import DeviceLoader

log = logging.getLogger(__name__)
CPU_FORWARD_BATCH = 8  # images per forward call on a CPU (see Encoder's forward_batch)


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
        decode: Where images are decoded: ``cpu`` (Pillow, in the DataLoader's workers), ``device`` (nvJPEG batches
            on the model's GPU, :mod:`embedding.device_decode`) or ``auto`` (``device`` on CUDA, else ``cpu``).
        forward_batch: Images per forward call (0: auto: :data:`CPU_FORWARD_BATCH` on a CPU, the whole batch on a
            GPU). On a CPU a batch of 32 runs slower per image than one of 8 (its activations leave the caches).
        read_threads: Threads reading encoded bytes for device decoding.
        precision: ``fp32``, ``bf16`` (autocast of the forward, on a GPU or a CPU) or ``auto``: bf16 on CUDA and
            on CPUs with native bf16 instructions (AVX512-BF16/AMX, as oneDNN reports), where it runs lite0 about
            2x faster than fp32 with unit vectors within 1e-3 cosine of fp32's; fp32 elsewhere.
        projection: A fitted :class:`~embedding.projection.Projection` applied to every vector (see
            :meth:`projected`).
        image_fit: The aspect-preserving square fit (``pad`` or ``crop``, :mod:`include.core.imagefit`): the same
            as training's ``data.image_fit``.
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
        decode: str = "auto",
        forward_batch: int = 0,
        read_threads: int = 8,
        precision: str = "auto",
        projection: Any = None,
        image_fit: str = "pad",
    ) -> None:
        import torch

        self.device = resolve_device(device)
        self.batch_size = batch_size
        self.workers = workers
        if decode not in ("auto", "cpu", "device"):
            raise ValueError(f"decode must be auto, cpu or device, not {decode!r}")
        self.decode = ("device" if self.device.startswith("cuda") else "cpu") if decode == "auto" else decode
        auto = batch_size if self.device.startswith("cuda") else min(batch_size, CPU_FORWARD_BATCH)
        self.forward_batch = forward_batch or auto
        self.read_threads = read_threads
        self.precision = resolve_precision(precision, self.device)
        self.model_name = model_name
        self.version = version or f"imagenet-{model_name}"
        prep = preprocessing_for(model_name)
        fit_geometry(1, 1, 1, image_fit)  # refuses an unknown fit now, not at the first image
        self.prep = replace(prep, size=image_size or prep.size, fit=image_fit)
        self.model = (model if model is not None else create_backbone(model_name, pretrained)).eval()
        self.model = self.model.to(self.device).to(memory_format=torch.channels_last)
        features = feature_dim if model is not None and feature_dim else _width(self.model)
        if features is None:
            raise EmbeddingError(f"{self.version}: the embedder's output width is unknown (give feature_dim)")
        self.colour_weight = float(colour_weight)
        self.feature_dim = int(features)
        self.raw_dim = self.feature_dim + (COLOUR_BINS**3 if self.colour_weight > 0 else 0)
        self.projection = None
        self.dim = self.raw_dim
        if projection is not None:
            self._set_projection(projection)

    def _set_projection(self, projection: Any) -> None:
        from embedding.projection import ProjectionMismatch

        if projection.in_dim != self.raw_dim:
            raise ProjectionMismatch(
                f"{self.version}: the projection takes vectors {projection.in_dim} wide, this encoder makes "
                f"{self.raw_dim} ({self.feature_dim} features + colour): re-fit it or set FTI_EMBED_PROJECTION_DIM=0"
            )
        self.projection, self.dim = projection, projection.dim

    def projected(self, projection: Any, version: str) -> Encoder:
        """This encoder (the same loaded model) with ``projection`` applied to its vectors, as ``version``.

        Raises:
            embedding.projection.ProjectionMismatch: the projection was fitted on another width.
        """
        import copy

        other = copy.copy(self)
        other.version = version
        other._set_projection(projection)
        return other

    def forward(self, batch: Any, hists: np.ndarray | None = None) -> np.ndarray:
        """Embed a ``(N, 3, H, W)`` batch (array or tensor); returns unit ``(N, dim)`` float32.

        Args:
            batch: uint8 pixels (:func:`~embedding.pixels.to_pixels`; normalised here, on the model's device) or
                normalised float inputs (:func:`~embedding.pixels.to_array`).
            hists: Their colour histograms when already computed (by the loader's workers).
        """
        import torch

        with torch.inference_mode():
            x = batch if isinstance(batch, torch.Tensor) else torch.from_numpy(batch)
            x = normalise(x.to(self.device, non_blocking=True), self.prep)
            x = x.contiguous(memory_format=torch.channels_last)
            with self.autocast():
                y = torch.cat([self.model(part) for part in x.split(self.forward_batch)]) if len(x) else self.model(x)
            y = torch.nn.functional.normalize(y.float(), dim=1)
        vectors = y.cpu().numpy().astype(np.float32)
        if self.colour_weight > 0:
            if hists is None:
                arrays = batch.numpy() if isinstance(batch, torch.Tensor) else batch
                hists = np.stack([colour_histogram(chw, self.prep) for chw in arrays])
            vectors = np.hstack([vectors, hists * self.colour_weight])
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        if self.projection is not None:
            vectors = self.projection.apply(vectors)
        return vectors

    def autocast(self) -> Any:
        """The autocast context of the forward (bf16 on the model's device type when ``precision`` is bf16)."""
        import torch

        kind = "cuda" if self.device.startswith("cuda") else "cpu"
        return torch.autocast(kind, dtype=torch.bfloat16, enabled=self.precision == "bf16")

    def loader(
        self, items: Sequence[Any], read: Callable[[Any], bytes] | None = None, workers: int | None = None
    ) -> DataLoader | DeviceLoader:
        """The loader of :meth:`embed_stream`: batches of decoded uint8 pixels (``embedding.loader.Batch``).

        With ``decode="device"`` a :class:`~embedding.device_decode.DeviceLoader` (threads read bytes, nvJPEG
        decodes on the GPU); else a DataLoader whose workers decode with Pillow.

        Args:
            items: Encoded image bytes, or keys that ``read`` turns into bytes (in the worker).
            read: Picklable ``item -> bytes`` (``embedding.loader.LakeReader``); None when items are bytes.
            workers: Decoding processes (default: the encoder's ``workers``; -1: auto).
        """
        if self.decode == "device":
            from embedding.device_decode import DeviceLoader

            return DeviceLoader(items, self.prep, self.device, self.batch_size, read, self.read_threads)
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


def resolve_precision(precision: str, device: str) -> str:
    """``fp32`` or ``bf16`` for ``precision`` (``auto``, ``fp32`` or ``bf16``) on ``device``."""
    import torch

    if precision not in ("auto", "fp32", "bf16"):
        raise ValueError(f"precision must be auto, fp32 or bf16, not {precision!r}")
    if precision != "auto":
        return precision
    if device.startswith("cuda"):
        return "bf16"
    return "bf16" if torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported() else "fp32"


def _width(model: Any) -> int | None:
    """Output width of a timm backbone (``head_hidden_size`` where a head follows pooling), else None."""
    return output_features(model) if hasattr(model, "num_features") else None
