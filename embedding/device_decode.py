"""JPEG decoding on the model's device: nvJPEG batches on a GPU, with reader threads that only read bytes.

On a GPU the CPU cannot decode as fast as the model embeds (15 decoding processes gave ~4,000 photos/s against
~20,000 for lite0's forward on an H100). Here threads only *read* encoded bytes (file or S3, in order, a few
batches ahead) and the decoding happens where the model runs: a batch of JPEGs goes through
``torchvision.io.decode_jpeg(list, device=…)`` (nvJPEG on CUDA) on a side CUDA stream, each image is resized
to the model's input on the device (aspect kept, bicubic with antialiasing, what Pillow's resize does) and its colour
histogram taken there, so copying and decoding batch n+1 overlap the forward of batch n.

Images that are not JPEG (PNG, WEBP, GIF) are decoded per image on the CPU (:func:`embedding.pixels.decode_pixels`)
and counted as ``fallbacks``; a corrupt JPEG fails only itself (the batch is retried image by image) and is
reported like the DataLoader path reports it. The same code runs on the CPU (``decode_jpeg`` decodes there too),
which is how the tests compare its vectors with the Pillow path; the CPU path of the pipeline stays Pillow with
JPEG draft mode (:mod:`embedding.loader`), which is faster there.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from embedding.pixels import COLOUR_BINS, EmbeddingError, decode_pixels
from include.core.imagefit import FILL, MIN_GARMENT_SHARE, STUDIO_WHITE, fit_geometry
from training.backbones import Preprocessing

log = logging.getLogger(__name__)
JPEG_MAGIC = b"\xff\xd8\xff"


def is_jpeg(data: bytes) -> bool:
    """Whether ``data`` starts like a JPEG file (SOI marker followed by a segment marker)."""
    return data[:3] == JPEG_MAGIC


@dataclass
class DeviceBatch:
    """One decoded batch, as :class:`embedding.loader.Batch` (``pixels`` uint8 on the device) plus counters."""

    indices: list[int]
    pixels: Any  # torch.Tensor (N, 3, S, S) uint8 on the decoding device
    hists: np.ndarray  # (N, 64) float32
    errors: list[tuple[int, str]]
    fallbacks: int = 0  # images decoded on the CPU because they are not JPEG (or nvJPEG refused them)
    ready: Any = field(default=None, repr=False)  # a CUDA event recorded after decoding, or None


def resize_on_device(chw: Any, size: int, mode: str = "pad") -> Any:
    """uint8 ``(3, H, W)`` tensor → uint8 ``(3, size, size)``, bicubic with antialiasing (Pillow's resize).

    The same aspect-preserving fit as :func:`embedding.pixels.to_pixels` (:func:`include.core.imagefit.fit_geometry`:
    white pad or centre crop), so both paths give the model the same input.
    """
    import torch

    if chw.shape[-2:] == (size, size):
        return chw
    fit = fit_geometry(int(chw.shape[-1]), int(chw.shape[-2]), size, mode)
    left, top, right, bottom = fit.crop
    x = chw[:, top:bottom, left:right]
    w, h = fit.size
    if (x.shape[-1], x.shape[-2]) != (w, h):
        x = (
            torch.nn.functional.interpolate(
                x[None].float(), size=(h, w), mode="bicubic", antialias=True, align_corners=False
            )[0]
            .round_()
            .clamp_(0, 255)
            .to(torch.uint8)
        )
    if (w, h) == (size, size):
        return x
    canvas = torch.full((3, size, size), FILL, dtype=torch.uint8, device=chw.device)
    ox, oy = fit.offset
    canvas[:, oy : oy + h, ox : ox + w] = x
    return canvas


def colour_histograms(pixels: Any) -> np.ndarray:
    """:func:`embedding.pixels.colour_histogram` of a uint8 ``(N, 3, S, S)`` tensor, computed on its device
    (the central 60 %, studio-white pixels left out unless too few others remain)."""
    import torch

    n, _, side, _ = pixels.shape
    lo, hi = int(side * 0.2), int(side * 0.8)
    area = pixels[:, :, lo:hi, lo:hi]
    garment = area.amin(dim=1) < STUDIO_WHITE  # (N, h, w)
    share = garment.flatten(1).float().mean(dim=1)
    use = garment | (share < MIN_GARMENT_SHARE).view(n, 1, 1)
    bins = (area.to(torch.int32) * COLOUR_BINS) >> 8
    index = (bins[:, 0] * COLOUR_BINS + bins[:, 1]) * COLOUR_BINS + bins[:, 2]
    offset = torch.arange(n, device=pixels.device, dtype=torch.int32).view(n, 1, 1) * COLOUR_BINS**3
    counts = torch.bincount((index + offset)[use], minlength=n * COLOUR_BINS**3).view(n, COLOUR_BINS**3)
    hist = counts.float().sqrt_()
    hist /= hist.norm(dim=1, keepdim=True).clamp_min(1e-12)
    return hist.cpu().numpy()


def decode_batch(blobs: Sequence[bytes], prep: Preprocessing, device: str) -> DeviceBatch:
    """Decode encoded images on ``device``; positions in ``blobs`` of the images that decoded, and the rest.

    Raises nothing for bad images: they come back in ``errors`` as ``(position, message)``.
    """
    import torch
    from torchvision.io import ImageReadMode, decode_jpeg

    decoded: dict[int, Any] = {}
    errors: list[tuple[int, str]] = []
    jpegs = [i for i, data in enumerate(blobs) if is_jpeg(data)]
    others = [i for i, data in enumerate(blobs) if not is_jpeg(data)]
    tensors = [torch.frombuffer(bytearray(blobs[i]), dtype=torch.uint8) for i in jpegs]
    if device.startswith("cuda"):
        tensors = [t.pin_memory() for t in tensors]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torchvision 0.29 marks its image decoders deprecated (TorchCodec)
        try:
            images = decode_jpeg(tensors, mode=ImageReadMode.RGB, device=device) if tensors else []
            decoded.update(zip(jpegs, images, strict=True))
        except RuntimeError:  # the batch call returns nothing when one image fails: find it image by image
            for i, tensor in zip(jpegs, tensors, strict=True):
                try:
                    decoded[i] = decode_jpeg(tensor, mode=ImageReadMode.RGB, device=device)
                except RuntimeError:
                    others.append(i)  # a JPEG nvJPEG refuses may still be readable by Pillow
    fallbacks = 0
    for i in sorted(others):
        try:
            decoded[i] = torch.from_numpy(decode_pixels(blobs[i], prep)).to(device)
            fallbacks += 1
        except EmbeddingError as exc:
            errors.append((i, f"EmbeddingError: {exc}"))
    indices = sorted(decoded)
    if not indices:
        return DeviceBatch([], torch.zeros(0, dtype=torch.uint8), np.zeros((0, 64), np.float32), errors, fallbacks)
    pixels = torch.stack([resize_on_device(decoded[i], prep.size, prep.fit) for i in indices])
    return DeviceBatch(indices, pixels, colour_histograms(pixels), errors, fallbacks)


def read_batches(
    items: Sequence[Any], read: Callable[[Any], bytes] | None, batch_size: int, threads: int, ahead: int = 4
) -> Iterator[tuple[list[int], list[bytes | None], list[tuple[int, str]]]]:
    """Items → batches of encoded bytes, in order, read by ``threads`` threads up to ``ahead`` batches ahead.

    Yields ``(positions, blobs, errors)``; an item that cannot be read has ``None`` as its blob and an error.
    """

    def fetch(i: int) -> tuple[int, bytes | None, str | None]:
        try:
            return i, read(items[i]) if read else items[i], None
        except Exception as exc:  # a missing file is that image's error, never the batch's
            return i, None, f"{type(exc).__name__}: {exc}"

    with ThreadPoolExecutor(max(1, threads), thread_name_prefix="fti-read") as pool:
        starts = range(0, len(items), batch_size)
        pending: list[Any] = []
        for start in starts:
            pending.append(pool.map(fetch, range(start, min(len(items), start + batch_size))))
            if len(pending) > ahead:
                yield _gather(pending.pop(0))
        for part in pending:
            yield _gather(part)


def _gather(results: Any) -> tuple[list[int], list[bytes | None], list[tuple[int, str]]]:
    rows = list(results)
    return [i for i, _, _ in rows], [b for _, b, _ in rows], [(i, e) for i, _, e in rows if e is not None]


class DeviceLoader:
    """Batches of device-decoded pixels (:class:`DeviceBatch`) for :meth:`embedding.encoder.Encoder.embed_stream`.

    A reader pool fetches bytes; one decoding thread decodes batch n+1 on a side CUDA stream while the caller runs
    the forward of batch n (at most ``depth`` decoded batches wait). Positions are those of ``items``.
    """

    def __init__(
        self, items: Sequence[Any], prep: Preprocessing, device: str, batch_size: int,
        read: Callable[[Any], bytes] | None = None, threads: int = 8, depth: int = 2,
    ) -> None:  # fmt: skip
        self.items, self.prep, self.device, self.batch_size = items, prep, device, batch_size
        self.read, self.threads, self.depth = read, threads, depth
        self.fallbacks = 0

    def __len__(self) -> int:
        return -(-len(self.items) // self.batch_size)

    def _decode_all(self, out: queue.Queue, stop: threading.Event) -> None:
        import torch

        cuda = self.device.startswith("cuda")
        stream = torch.cuda.Stream(device=self.device) if cuda else None
        try:
            for positions, blobs, read_errors in read_batches(self.items, self.read, self.batch_size, self.threads):
                if stop.is_set():
                    return
                good = [(p, b) for p, b in zip(positions, blobs, strict=True) if b is not None]
                if stream is not None:
                    with torch.cuda.stream(stream):
                        batch = decode_batch([b for _, b in good], self.prep, self.device)
                        batch.ready = torch.cuda.Event()
                        batch.ready.record(stream)
                else:
                    batch = decode_batch([b for _, b in good], self.prep, self.device)
                batch.indices = [good[i][0] for i in batch.indices]
                batch.errors = sorted(read_errors + [(good[i][0], msg) for i, msg in batch.errors])
                out.put(batch)
            out.put(None)
        except BaseException as exc:  # handed to the consumer, raised there
            out.put(exc)

    def __iter__(self) -> Iterator[DeviceBatch]:
        import torch

        out: queue.Queue = queue.Queue(maxsize=self.depth)
        stop = threading.Event()
        worker = threading.Thread(target=self._decode_all, args=(out, stop), name="fti-decode", daemon=True)
        worker.start()
        try:
            while (batch := out.get()) is not None:
                if isinstance(batch, BaseException):
                    raise batch
                if batch.ready is not None:
                    torch.cuda.current_stream(self.device).wait_event(batch.ready)
                self.fallbacks += batch.fallbacks
                yield batch
        finally:
            stop.set()
            while worker.is_alive():  # unblock a producer waiting on a full queue
                with contextlib.suppress(queue.Empty):
                    out.get(timeout=0.1)
            if self.fallbacks:
                log.info("%d images were not JPEG and were decoded on the CPU", self.fallbacks)
