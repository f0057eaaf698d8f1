"""Model versions and their collections.

A model version is either the offline-pretrained backbone, ``imagenet-<FTI_MODEL_NAME>``, or a trained embedder
promoted by the training stage (``training.registry``: ``models/<version>/card.json`` + ``weights.pt``, and
``models/champion.json`` naming the champion). Vectors of version V live in the collection
``<FTI_COLLECTION>_<V sanitised>`` (``catalog_imagenet_tf_efficientnet_lite0``); the alias ``FTI_COLLECTION``
(``catalog``) points at the version in service. Each collection's description records its version, so the
model that serves queries is always the one that wrote the vectors, even while a newer champion is being
indexed. With ``FTI_EMBED_PROJECTION_DIM=k`` the pretrained version is ``imagenet-<model>+pca<k>``: the backbone
projected by a PCA fitted on the catalog (:mod:`embedding.projection`), in its own collection.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from embedding.projection import load_projection, projected_version, split_version
from include.core.lake import Lake
from include.core.settings import Settings

log = logging.getLogger(__name__)

PRETRAINED_PREFIX = "imagenet-"


@dataclass(frozen=True)
class ModelVersion:
    """One embedding model: its id, timm name and, for a trained embedder, its card."""

    version: str
    model_name: str
    card: dict[str, Any] | None = None

    @property
    def trained(self) -> bool:
        """True for a promoted embedder, False for the pretrained backbone."""
        return self.card is not None

    @property
    def projection_dim(self) -> int:
        """Width of the PCA the version names (``+pca<k>``), 0 for none."""
        return split_version(self.version)[1]

    @property
    def base(self) -> ModelVersion:
        """The version without its projection."""
        return ModelVersion(split_version(self.version)[0], self.model_name, self.card)


def collection_name(alias: str, version: str) -> str:
    """``<alias>_<version>`` with every character outside ``[A-Za-z0-9_]`` replaced by ``_``."""
    return f"{alias}_{re.sub(r'[^A-Za-z0-9_]', '_', version)}"


def pretrained_version(settings: Settings) -> ModelVersion:
    """The offline-pretrained backbone the settings name (projected when ``embed_projection_dim`` is set)."""
    base = f"{PRETRAINED_PREFIX}{settings.model_name}"
    version = projected_version(base, settings.embed_projection_dim, settings.embed_projection_whiten)
    return ModelVersion(version, settings.model_name)


def champion_version(lake: Lake, settings: Settings) -> ModelVersion:
    """The model that should be in service: the promoted champion, else the pretrained backbone."""
    try:
        from training.registry import champion
    except ImportError:  # the training registry is not installed yet: no champion
        log.info("training.registry unavailable: serving %s", pretrained_version(settings).version)
        return pretrained_version(settings)
    card = champion(lake)
    if card is None:
        return pretrained_version(settings)
    return ModelVersion(str(card["version"]), str(card["model_name"]), dict(card))


def model_version(lake: Lake, settings: Settings, version: str) -> ModelVersion:
    """A named version: the pretrained backbone (``imagenet-<name>``) or a card in the lake's model registry."""
    if version.startswith(PRETRAINED_PREFIX):
        return ModelVersion(version, split_version(version)[0][len(PRETRAINED_PREFIX) :])
    key = f"models/{version}/card.json"
    if not lake.exists(key):
        raise LookupError(f"model version {version}: no {lake.uri(key)}")
    card = json.loads(lake.read_text(key))
    return ModelVersion(version, str(card["model_name"]), card)


def make_encoder(settings: Settings, lake: Lake | None = None, version: ModelVersion | None = None):
    """The encoder of ``version`` (default: the pretrained backbone of the settings).

    A trained embedder comes from ``training.registry.load_embedder``; the colour histogram is appended to its
    output exactly as to the backbone's (``FTI_COLOUR_WEIGHT``). The last two encoders made are reused while
    their version and the encoder settings stay the same (a process loads each model once). A projected version
    (``+pca<k>``) is its base version's encoder with the stored projection applied.

    Raises:
        embedding.projection.ProjectionError: a projected version whose projection is not stored (yet).
    """
    version = version or pretrained_version(settings)
    if version.projection_dim:
        projection = load_projection(lake, version.version)
        return make_encoder(settings, lake, version.base).projected(projection, version.version)
    key = (version.version, settings.model_dump_json(include=_ENCODER_SETTINGS))  # versions are content hashes
    if key not in _encoders:
        while len(_encoders) >= 2:  # the model in service and the one being indexed
            _encoders.pop(next(iter(_encoders)))
        _encoders[key] = _make_encoder(settings, lake, version)
    return _encoders[key]


_ENCODER_SETTINGS = {
    "device", "embed_batch_size", "colour_weight", "embed_workers", "pretrained", "embed_decode",
    "embed_forward_batch", "embed_read_threads", "embed_precision", "image_fit",
}  # fmt: skip
_encoders: dict[tuple, Any] = {}


def _make_encoder(settings: Settings, lake: Lake | None, version: ModelVersion):
    from embedding.encoder import Encoder
    from training.backbones import resolve_device

    common = {
        "device": settings.device, "batch_size": settings.embed_batch_size,
        "colour_weight": settings.colour_weight, "workers": settings.embed_workers, "version": version.version,
        "decode": settings.embed_decode, "forward_batch": settings.embed_forward_batch,
        "read_threads": settings.embed_read_threads, "precision": settings.embed_precision,
        "image_fit": settings.image_fit,
    }  # fmt: skip
    if not version.trained:
        return Encoder(version.model_name, settings.pretrained, **common)
    from training.registry import load_embedder

    module = load_embedder(lake, version.version, device=resolve_device(settings.device))
    card = version.card or {}
    return Encoder(
        version.model_name, model=module, feature_dim=int(card["embedding_dim"]),
        image_size=int(card["image_size"]) if card.get("image_size") else None, **common,
    )  # fmt: skip
