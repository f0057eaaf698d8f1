"""Fit the projection of a projected pretrained version (``+pca<k>``) on the live catalog, once."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from embedding.projection import Projection, fit_projection, projection_key, save_projection
from embedding.versions import ModelVersion, make_encoder
from include.core.lake import Lake
from include.core.progress import progress_bar
from include.core.settings import Settings

log = logging.getLogger(__name__)


def ensure_projection(lake: Lake, settings: Settings, version: ModelVersion, live: pd.DataFrame) -> Projection | None:
    """Fit and store the projection ``version`` names, unless it is stored already (or it names none).

    The sample is the first ``embed_projection_sample`` live images by sha256 (a content-hash order, so the
    same catalog gives the same sample); images that do not decode are left out of it.

    Returns:
        The projection fitted now, or None when there was nothing to fit.

    Raises:
        embedding.projection.ProjectionError: too few catalog images for the projection's width.
    """
    if not version.projection_dim or lake.exists(projection_key(version.version)):
        return None
    from embedding.loader import LakeReader
    from embedding.projection import split_version

    encoder = make_encoder(settings, lake, version.base)
    rows = live.sort_values("sha256").head(settings.embed_projection_sample)
    keys = rows["image_key"].tolist()
    parts: list[np.ndarray] = []
    with progress_bar(len(keys), f"fit projection {version.version}") as advance:
        for indices, vectors, errors in encoder.embed_stream(keys, LakeReader(lake)):
            parts.append(vectors)
            advance(len(indices) + len(errors))
    vectors = np.concatenate(parts) if parts else np.zeros((0, encoder.dim), np.float32)
    _, dim, whiten = split_version(version.version)
    projection = fit_projection(vectors, encoder.feature_dim, dim, whiten)
    key = save_projection(lake, version.version, projection)
    log.info("fitted %s on %d catalog images: %d -> %d wide (%s)", version.version, len(vectors), encoder.dim,
             projection.dim, lake.uri(key))  # fmt: skip
    return projection
