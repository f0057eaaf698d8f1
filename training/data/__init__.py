"""Labelled data: loaders per format, one :class:`LabelledSet` shape, and the fingerprint of what was configured.

Formats: DeepFashion Consumer-to-shop (:mod:`.deepfashion`), pairs files in the lake (:mod:`.pairs`), photo
folders in the ``styles.csv`` layout (:mod:`.styles`), synthetic pairs from the demo generator (:mod:`.synthetic`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

from training.config import DataSetSpec, TrainConfig, instantiate
from training.data.base import (
    LabelledDataError,
    LabelledSet,
    combine,
    verify_images,
)
from training.data.deepfashion import BBOX_FILE, PARTITION_FILE, load_consumer2shop
from training.data.pairs import PAIRS_PREFIX, load_pairs
from training.data.styles import load_styles
from training.data.synthetic import synthetic_designs, with_consumer_views

log = logging.getLogger(__name__)

__all__ = [
    "LabelledDataError",
    "LabelledSet",
    "build_labelled_set",
    "data_fingerprint",
    "load_consumer2shop",
    "load_pairs",
    "load_styles",
    "synthetic_designs",
    "with_consumer_views",
]


def _root(spec: DataSetSpec) -> Path:
    return Path(os.path.expandvars(os.path.expanduser(spec.root or "")))


def load_spec(spec: DataSetSpec, cfg: TrainConfig, lake) -> LabelledSet:
    """The set one spec describes (views added, not yet verified)."""
    size = cfg.image_size()
    if spec.kind == "deepfashion":
        ls = load_consumer2shop(_root(spec))
    elif spec.kind == "pairs":
        ls = load_pairs(lake, spec.prefix, cfg.data.val_fraction)
    elif spec.kind == "styles":
        ls = load_styles(_root(spec), spec.category_column, cfg.data.val_fraction, limit=spec.limit)
    elif spec.kind == "synthetic":
        ls = synthetic_designs(spec.n_items, max(1, spec.consumer_views), cfg.data.seed, size, cfg.data.val_fraction)
        return ls
    else:
        ls = instantiate({"_target_": spec.target, **spec.args})
        if not isinstance(ls, LabelledSet):
            raise LabelledDataError(f"custom loader {spec.target} returned {type(ls).__name__}, not a LabelledSet")
    if spec.consumer_views:
        ls = with_consumer_views(ls, spec.consumer_views, cfg.data.seed, size)
    return ls


def build_labelled_set(cfg: TrainConfig, lake) -> LabelledSet:
    """Every configured set, verified and combined.

    Raises:
        LabelledDataError: a loader fails, too many bad images, or the train/val split ends up empty.
    """
    sets = []
    for spec in cfg.data.sets:
        ls = verify_images(load_spec(spec, cfg, lake), cfg.data.verify, cfg.data.max_bad_fraction)
        log.info("labelled set %s: %s", ls.name, ls.summary())
        sets.append(ls)
    full = combine(sets)
    full.fingerprint = data_fingerprint(cfg, lake)
    return full


def _spec_digest(spec: DataSetSpec, lake) -> str:
    h = hashlib.sha256(json.dumps(spec.model_dump(by_alias=True), sort_keys=True).encode())
    root = _root(spec)
    if spec.kind == "deepfashion":
        for name in (BBOX_FILE, PARTITION_FILE):
            path = root / name
            if not path.is_file():
                raise LabelledDataError(f"DeepFashion annotation missing: {path}")
            h.update(path.read_bytes())
    elif spec.kind == "pairs":
        keys = [k for k in lake.list(spec.prefix or PAIRS_PREFIX) if k.endswith((".parquet", ".csv"))]
        if not keys:
            raise LabelledDataError(f"no pairs files (*.parquet, *.csv) under {lake.uri(spec.prefix)}")
        for key in keys:
            h.update(key.encode() + b"\0" + hashlib.sha256(lake.read_bytes(key)).digest())
    elif spec.kind == "styles":
        if not (root / "styles.csv").is_file():
            raise LabelledDataError(f"{root}: no styles.csv")
        h.update((root / "styles.csv").read_bytes())
        for p in sorted((root / "images").glob("*.jpg")):
            h.update(f"{p.name}:{p.stat().st_size}".encode())
    return h.hexdigest()


def data_fingerprint(cfg: TrainConfig, lake) -> str:
    """sha256 of the labelled data a config points at: annotation/pairs files and the data options.

    Image bytes are not read (DeepFashion has ~240k): a changed label or a new pairs file changes the
    fingerprint; images replaced in place under the same name do not.
    """
    h = hashlib.sha256()
    h.update(json.dumps({"val_fraction": cfg.data.val_fraction, "seed": cfg.data.seed}).encode())
    for spec in cfg.data.sets:
        h.update(_spec_digest(spec, lake).encode())
    return h.hexdigest()
