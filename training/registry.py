"""The model registry in the lake, and the promotion gate.

Layout (see notes/contracts.md)::

    models/<version>/weights.pt     state dict of an EmbeddingNet
    models/<version>/card.json      version, model_name, embedding_dim, image_size, weights_key, config, metrics,
                                    data_fingerprint, created_at (+ weights_sha256)
    models/champion.json            the pointer: a copy of the champion's card (+ promoted_at)
    models/attempts/<fingerprint>.json   the last training result on that labelled data (promoted or not)

Versions are content-addressed (``<model_name>-<sha256(weights)[:12]>``): registering the same weights twice
writes the same files. Promotion verifies the stored weights against the card's checksum, then switches the
pointer in one atomic write. With no champion the model in service is the offline-pretrained backbone, version
``imagenet-<FTI_MODEL_NAME>``.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)

CHAMPION_KEY = "models/champion.json"


class RegistryError(RuntimeError):
    """A model is missing from the registry or its files do not match its card."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def card_key(version: str) -> str:
    """Lake key of a version's card."""
    return f"models/{version}/card.json"


def register(
    lake,
    net,
    *,
    image_size: int,
    config: dict[str, Any],
    metrics: dict[str, Any],
    data_fingerprint: str,
) -> dict[str, Any]:
    """Store ``net`` (an :class:`~training.model.EmbeddingNet`) and its card; return the card."""
    import torch

    buf = io.BytesIO()
    torch.save({k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}, buf)
    weights = buf.getvalue()
    digest = hashlib.sha256(weights).hexdigest()
    version = f"{net.model_name}-{digest[:12]}"
    weights_key = f"models/{version}/weights.pt"
    card = {
        "version": version,
        "model_name": net.model_name,
        "embedding_dim": int(net.embedding_dim),
        "image_size": int(image_size),
        "weights_key": weights_key,
        "weights_sha256": digest,
        "config": config,
        "metrics": metrics,
        "data_fingerprint": data_fingerprint,
        "created_at": _now(),
    }
    lake.write_bytes(weights_key, weights)
    lake.write_text(card_key(version), json.dumps(card, indent=2, sort_keys=True, default=str))
    log.info("registered model %s (%s)", version, lake.uri(weights_key))
    return card


def card(lake, version: str) -> dict[str, Any]:
    """The card of ``version``."""
    if not lake.exists(card_key(version)):
        raise RegistryError(f"no model {version!r} in {lake.uri('models/')}")
    return json.loads(lake.read_text(card_key(version)))


def champion(lake) -> dict[str, Any] | None:
    """The champion's card, or None when no model was ever promoted."""
    if not lake.exists(CHAMPION_KEY):
        return None
    return json.loads(lake.read_text(CHAMPION_KEY))


def gate(
    candidate: dict[str, Any],
    incumbent: dict[str, Any] | None,
    metric: str = "recall@1",
    min_improvement: float = 0.0,
    guards: dict[str, float] | None = None,
) -> tuple[bool, str]:
    """Whether a candidate beats the incumbent's metrics measured on the same validation set.

    The candidate must be strictly better on ``metric`` and by at least ``min_improvement``, and must not lose
    more than ``guards[m]`` on any guarded metric ``m`` (e.g. category Recall@1: a model that matches items
    better but scatters categories is still refused). A guard the incumbent was not measured on is ignored.
    """
    if metric not in candidate:
        raise RegistryError(f"candidate metrics lack {metric!r}: {sorted(candidate)}")
    if incumbent is None or metric not in incumbent:
        return True, f"no incumbent {metric}"
    c, i = float(candidate[metric]), float(incumbent[metric])
    if not (c > i and c >= i + min_improvement):
        return False, f"{metric} {c:.4f} does not beat {i:.4f} by {min_improvement}"
    for name, tolerance in (guards or {}).items():
        if name not in incumbent:
            continue
        if name not in candidate:
            raise RegistryError(f"candidate metrics lack the guarded {name!r}: {sorted(candidate)}")
        gc, gi = float(candidate[name]), float(incumbent[name])
        if gc < gi - tolerance:
            return False, (f"{metric} {c:.4f} beats {i:.4f}, but {name} falls {gi:.4f} -> {gc:.4f} "
                           f"(tolerance {tolerance})")  # fmt: skip
    return True, f"{metric} {c:.4f} beats {i:.4f} (min improvement {min_improvement})"


def promote(lake, version: str) -> dict[str, Any]:
    """Make ``version`` the champion after checking its stored weights against the card."""
    c = card(lake, version)
    if not lake.exists(c["weights_key"]):
        raise RegistryError(f"{lake.uri(c['weights_key'])} is missing: not promoting {version}")
    digest = hashlib.sha256(lake.read_bytes(c["weights_key"])).hexdigest()
    if c.get("weights_sha256") and digest != c["weights_sha256"]:
        raise RegistryError(f"{lake.uri(c['weights_key'])}: checksum differs from its card: not promoting {version}")
    pointer = c | {"promoted_at": _now()}
    lake.write_text(CHAMPION_KEY, json.dumps(pointer, indent=2, sort_keys=True, default=str))
    log.info("promoted %s to champion", version)
    return pointer


def record_attempt(lake, fingerprint: str, result: dict[str, Any]) -> None:
    """Remember the outcome of training on ``fingerprint`` (so unchanged data is not retrained in vain)."""
    lake.write_text(f"models/attempts/{fingerprint}.json", json.dumps(result, indent=2, sort_keys=True, default=str))


def attempt(lake, fingerprint: str) -> dict[str, Any] | None:
    """The recorded outcome of training on ``fingerprint``, if any."""
    key = f"models/attempts/{fingerprint}.json"
    return json.loads(lake.read_text(key)) if lake.exists(key) else None


def service_version(lake, model_name: str | None = None) -> str:
    """Version of the model in service: the champion's, else ``imagenet-<model_name>``."""
    c = champion(lake)
    if c is not None:
        return c["version"]
    if model_name is None:
        from include.core.settings import get_settings

        model_name = get_settings().model_name
    return f"imagenet-{model_name}"


def load_embedder(lake, version: str | None = None, device: str = "cpu"):
    """The embedder of ``version`` (default: the champion; with none, the offline-pretrained backbone), in eval
    mode on ``device``. Input: ``B x 3 x S x S`` preprocessed as ``preprocessing_for(model_name)`` says (S is
    the card's ``image_size``); output: L2-normalised ``B x embedding_dim``. The module carries ``version``,
    ``model_name``, ``embedding_dim`` and ``image_size`` attributes.

    Raises:
        RegistryError: unknown version.
        CheckpointMismatch: the stored weights do not fit the card's architecture.
    """
    from training.backbones import preprocessing_for
    from training.model import EmbeddingNet, PretrainedEmbedder, load_weights

    if version is None:
        c = champion(lake)
        version = c["version"] if c else service_version(lake)
    if version.startswith("imagenet-"):
        name = version.removeprefix("imagenet-")
        model = PretrainedEmbedder(name, pretrained=True)
        model.version, model.image_size = version, preprocessing_for(name).size
        return model.to(device).eval()
    c = card(lake, version)
    model = EmbeddingNet(c["model_name"], int(c["embedding_dim"]), pretrained=False)
    load_weights(model, lake.read_bytes(c["weights_key"]), lake.uri(c["weights_key"]))
    model.version, model.image_size = version, int(c["image_size"])
    return model.to(device).eval()
