"""The common shape of every labelled set: a table of images with item, category, domain and split.

A :class:`LabelledSet` is a pandas table (one row per image) plus an :class:`ImageSource` that turns the
``image`` column into bytes. Columns: ``image`` (reference the source understands), ``item_id`` (images of the
same item are positives), ``category``, ``domain`` (``consumer`` or ``shop``), ``split`` (``train``/``val``/
``test``) and optional ``x1, y1, x2, y2`` (a bounding box to crop to, pixels).
"""

from __future__ import annotations

import hashlib
import io
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

log = logging.getLogger(__name__)

COLUMNS = ["image", "item_id", "category", "domain", "split"]
BBOX = ["x1", "y1", "x2", "y2"]
DOMAINS = ("consumer", "shop")
SPLITS = ("train", "val", "test")


class LabelledDataError(ValueError):
    """Labelled data cannot be used: unreadable file, unknown column, bad image, empty split."""


class ImageSource(ABC):
    """Resolves image references to encoded bytes."""

    @abstractmethod
    def read(self, ref: str) -> bytes:
        """Bytes of ``ref``; ``LabelledDataError`` naming it when it cannot be read."""

    def exists(self, ref: str) -> bool:
        """Whether ``ref`` can be read (cheap check)."""
        try:
            self.read(ref)
        except LabelledDataError:
            return False
        return True

    def describe(self, ref: str) -> str:
        """Human-readable location of ``ref`` for error messages."""
        return ref


class FolderSource(ImageSource):
    """Images as files under a root folder (``ref`` is a relative path; the first existing root wins)."""

    def __init__(self, *roots: str | Path) -> None:
        self.roots = [Path(r) for r in roots]

    def path(self, ref: str) -> Path:
        for root in self.roots:
            if (root / ref).is_file():
                return root / ref
        return self.roots[0] / ref

    def read(self, ref: str) -> bytes:
        try:
            return self.path(ref).read_bytes()
        except OSError as exc:
            raise LabelledDataError(f"cannot read image {self.path(ref)}: {exc.strerror or exc}") from exc

    def exists(self, ref: str) -> bool:
        return self.path(ref).is_file()

    def describe(self, ref: str) -> str:
        return str(self.path(ref))


class LakeSource(ImageSource):
    """Images as lake keys (``images/full/...``)."""

    def __init__(self, lake) -> None:
        self.lake = lake

    def read(self, ref: str) -> bytes:
        from include.core.lake import LakeError

        try:
            return self.lake.read_bytes(ref)
        except LakeError as exc:
            raise LabelledDataError(f"cannot read image {self.lake.uri(ref)}: {exc}") from exc

    def exists(self, ref: str) -> bool:
        return self.lake.exists(ref)

    def describe(self, ref: str) -> str:
        return self.lake.uri(ref)


class MemorySource(ImageSource):
    """Images held in memory (generated views)."""

    def __init__(self, images: dict[str, bytes] | None = None) -> None:
        self.images = dict(images or {})

    def read(self, ref: str) -> bytes:
        try:
            return self.images[ref]
        except KeyError as exc:
            raise LabelledDataError(f"no generated image {ref}") from exc

    def exists(self, ref: str) -> bool:
        return ref in self.images

    def describe(self, ref: str) -> str:
        return f"memory:{ref}"


class MultiSource(ImageSource):
    """Several sources behind one interface; references are prefixed ``<n>:``."""

    def __init__(self, sources: list[ImageSource]) -> None:
        self.sources = sources

    def _split(self, ref: str) -> tuple[ImageSource, str]:
        n, _, rest = ref.partition(":")
        return self.sources[int(n)], rest

    def read(self, ref: str) -> bytes:
        src, rest = self._split(ref)
        return src.read(rest)

    def exists(self, ref: str) -> bool:
        src, rest = self._split(ref)
        return src.exists(rest)

    def describe(self, ref: str) -> str:
        src, rest = self._split(ref)
        return src.describe(rest)


@dataclass
class LabelledSet:
    """A labelled image table and the source of its images."""

    name: str
    table: pd.DataFrame
    source: ImageSource
    fingerprint: str = ""

    def __post_init__(self) -> None:
        missing = [c for c in COLUMNS if c not in self.table.columns]
        if missing:
            raise LabelledDataError(f"{self.name}: table lacks columns {missing}")
        self.table = self.table.reset_index(drop=True)
        for col in ("image", "item_id", "category", "domain", "split"):
            self.table[col] = self.table[col].astype(str)
        bad = sorted(set(self.table["domain"]) - set(DOMAINS))
        if bad:
            raise LabelledDataError(f"{self.name}: unknown domain values {bad} (expected {DOMAINS})")

    def __len__(self) -> int:
        return len(self.table)

    def split(self, *names: str) -> pd.DataFrame:
        """Rows of the given splits."""
        return self.table[self.table["split"].isin(names)].reset_index(drop=True)

    def summary(self) -> dict:
        """Counts per split and domain (for logs and cards)."""
        counts = self.table.groupby(["split", "domain"]).size()
        return {f"{s}/{d}": int(n) for (s, d), n in counts.items()} | {"items": int(self.table["item_id"].nunique())}


def decode_image(data: bytes, where: str, bbox: tuple | None = None) -> Image.Image:
    """Decode (and crop to ``bbox`` when given) an RGB image; ``LabelledDataError`` naming ``where`` otherwise."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            img = img.convert("RGB")
    except Exception as exc:
        raise LabelledDataError(f"corrupt image {where}: {exc}") from exc
    if bbox is not None and all(v is not None and not pd.isna(v) for v in bbox):
        x1, y1, x2, y2 = (int(v) for v in bbox)
        x1, y1 = max(0, x1), max(0, y1)
        x2, y2 = min(img.width, x2), min(img.height, y2)
        if x2 - x1 >= 2 and y2 - y1 >= 2:  # a degenerate box keeps the whole image
            img = img.crop((x1, y1, x2, y2))
    return img


def hash_split(item_ids: pd.Series, val_fraction: float, test_fraction: float = 0.0, salt: str = "fti") -> pd.Series:
    """A split per item that never changes as data grows: ``sha1(salt:item)`` mapped to [0, 1)."""

    def bucket(item: str) -> str:
        u = int(hashlib.sha1(f"{salt}:{item}".encode()).hexdigest()[:8], 16) / 2**32
        return "val" if u < val_fraction else "test" if u < val_fraction + test_fraction else "train"

    return item_ids.astype(str).map(bucket)


def verify_images(ls: LabelledSet, mode: str = "decode", max_bad_fraction: float = 0.0) -> LabelledSet:
    """Check every image of ``ls``; drop bad rows with a logged count, or fail past ``max_bad_fraction``.

    Args:
        ls: The set.
        mode: ``decode`` (read and decode each image), ``exists`` (cheap existence check) or ``none``.
        max_bad_fraction: Largest share of bad images tolerated (skipped and counted); more raises.

    Raises:
        LabelledDataError: too many bad images (names the first ones and their rows) or nothing left.
    """
    if mode == "none" or len(ls) == 0:
        return ls
    bad: list[tuple[int, str, str]] = []
    for row in ls.table.itertuples():
        where = ls.source.describe(row.image)
        if mode == "exists":
            if not ls.source.exists(row.image):
                bad.append((row.Index, where, "missing"))
            continue
        try:
            data = ls.source.read(row.image)
            with Image.open(io.BytesIO(data)) as img:
                img.verify()
        except Exception as exc:
            bad.append((row.Index, where, str(exc).splitlines()[0][:120]))
    if bad:
        shown = "; ".join(f"row {i}: {w} ({why})" for i, w, why in bad[:5])
        frac = len(bad) / len(ls)
        if frac > max_bad_fraction:
            raise LabelledDataError(
                f"{ls.name}: {len(bad)} of {len(ls)} images missing or corrupt "
                f"({frac:.1%} > max_bad_fraction {max_bad_fraction:.1%}): {shown}"
            )
        log.warning("%s: skipping %d missing/corrupt images: %s", ls.name, len(bad), shown)
        ls.table = ls.table.drop(index=[i for i, _, _ in bad]).reset_index(drop=True)
    return ls


def combine(sets: list[LabelledSet], name: str = "labelled") -> LabelledSet:
    """One set from several (item ids are prefixed by set name so they never collide)."""
    if not sets:
        raise LabelledDataError("no labelled data configured")
    if len(sets) == 1:
        return sets[0]
    tables = []
    for n, ls in enumerate(sets):
        t = ls.table.copy()
        t["image"] = f"{n}:" + t["image"]
        t["item_id"] = f"{ls.name}/" + t["item_id"]
        tables.append(t)
    fp = hashlib.sha256("|".join(s.fingerprint for s in sets).encode()).hexdigest()
    return LabelledSet(name, pd.concat(tables, ignore_index=True), MultiSource([s.source for s in sets]), fp)


def sha256_bytes(*chunks: bytes) -> str:
    """sha256 hex of the concatenated chunks (each length-prefixed)."""
    h = hashlib.sha256()
    for c in chunks:
        h.update(len(c).to_bytes(8, "little"))
        h.update(c)
    return h.hexdigest()


def rng_for(*keys: object) -> np.random.Generator:
    """A generator seeded from arbitrary keys (stable across runs)."""
    digest = hashlib.sha256("|".join(map(str, keys)).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))
