"""The catalog-fitted PCA of the pretrained path: fit, persist with the version, embed -> match, mismatches."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from embedding.catalog import embed_catalog
from embedding.index import CatalogIndex
from embedding.matching import match_social
from embedding.projection import (
    Projection,
    ProjectionError,
    ProjectionMismatch,
    fit_projection,
    load_projection,
    projection_key,
    save_projection,
    split_version,
)
from embedding.versions import make_encoder, model_version, pretrained_version
from tests.embedding.conftest import write_batch


def unit_rows(n: int, features: int, colour: int, seed: int = 0) -> np.ndarray:
    """Unit vectors whose features lie near a 6-dim subspace, then ``colour`` non-negative columns."""
    rng = np.random.default_rng(seed)
    basis = rng.normal(size=(6, features))
    feat = rng.normal(size=(n, 6)) @ basis + 0.05 * rng.normal(size=(n, features))
    feat /= np.linalg.norm(feat, axis=1, keepdims=True)
    hist = rng.random((n, colour)) * 0.3
    out = np.hstack([feat, hist]).astype(np.float32)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_fit_keeps_the_neighbours_and_the_colour_share():
    train, test = unit_rows(400, 48, 8), unit_rows(60, 48, 8, seed=0)[:60]
    proj = fit_projection(train, feature_dim=48, dim=6)
    assert (proj.in_dim, proj.dim, proj.fitted_rows) == (56, 14, 400)
    assert np.allclose(proj.components.T @ proj.components, np.eye(6), atol=1e-4)  # orthonormal axes
    out = proj.apply(test)
    assert out.shape == (60, 14) and out.dtype == np.float32
    assert np.allclose(np.linalg.norm(out, axis=1), 1, atol=1e-5)
    # The colour columns pass through with the share of the vector they had.
    assert np.allclose(np.linalg.norm(out[:, 6:], axis=1), np.linalg.norm(test[:, 48:], axis=1), atol=1e-5)
    # Features near a 6-dim subspace: nearest neighbours survive the projection.
    before, after = (test @ test.T), (out @ out.T)
    np.fill_diagonal(before, -2)
    np.fill_diagonal(after, -2)
    assert (before.argmax(1) == after.argmax(1)).mean() >= 0.9


def test_whitened_axes_have_unit_variance_and_too_few_rows_are_refused():
    train = unit_rows(300, 32, 0)
    proj = fit_projection(train, 32, 4, whiten=True)
    feat = train / np.linalg.norm(train, axis=1, keepdims=True)
    z = (feat - proj.mean) @ proj.components
    assert np.allclose(z.var(axis=0, ddof=1), 1, atol=1e-2)
    with pytest.raises(ProjectionError, match="cannot fit a 8-dim projection"):
        fit_projection(train[:8], 32, 8)
    with pytest.raises(ProjectionError, match="must be in 1..32"):
        fit_projection(train, 32, 33)


def test_persist_with_the_model_version_and_refuse_a_mismatched_width(lake):
    proj = fit_projection(unit_rows(200, 40, 8), 40, 5)
    version = "imagenet-tf_efficientnet_lite0+pca5"
    key = save_projection(lake, version, proj)
    assert key == "models/imagenet-tf_efficientnet_lite0/projection-5.npz" == projection_key(version)
    again = load_projection(lake, version)
    assert again.sha256() == proj.sha256() and (again.in_dim, again.dim) == (48, 13)
    other = fit_projection(unit_rows(200, 40, 8, seed=3), 40, 5)
    save_projection(lake, version, other)  # stored once: the vectors in the index were made with the first
    assert load_projection(lake, version).sha256() == proj.sha256()
    with pytest.raises(ProjectionMismatch, match="fitted on width 48"):
        proj.apply(np.ones((2, 47), np.float32))
    with pytest.raises(ProjectionError, match="no projection at"):
        load_projection(lake, "imagenet-tf_efficientnet_lite0+pcaw7")
    assert isinstance(Projection.from_bytes(proj.to_bytes()), Projection)
    assert split_version("imagenet-x+pcaw64") == ("imagenet-x", 64, True)
    assert split_version("imagenet-x") == ("imagenet-x", 0, False)


def test_embed_then_match_in_one_projected_space_on_milvus_lite(lake, small_settings, monkeypatch):
    from include.core.settings import get_settings

    monkeypatch.setenv("FTI_EMBED_PROJECTION_DIM", "8")
    get_settings.cache_clear()
    settings = get_settings()
    version = pretrained_version(settings)
    assert version.version == "imagenet-test_efficientnet+pca8" and version.projection_dim == 8
    assert model_version(lake, settings, version.version).model_name == "test_efficientnet"
    with pytest.raises(ProjectionError, match="the embed stage fits it"):
        make_encoder(settings, lake, version)  # nothing fitted yet: a clear error, not unprojected vectors

    catalog = write_batch(lake, "shop", "2026-11-01", list(range(14)))
    write_batch(lake, "insta", "2026-11-01", [3, 9], kind="social")  # the same pixels as two products
    first = embed_catalog("2026-11-01", lake, settings)
    assert first["collection"] == "catalog_imagenet_test_efficientnet_pca8"
    assert first["model_version"] == version.version and first["embedded"] == 14
    proj = load_projection(lake, version.version)
    assert proj.fitted_rows == 14 and proj.dim == 8 + 64
    with CatalogIndex(settings.resolved_milvus_uri(), first["collection"], proj.dim) as index:
        index.ensure()  # the collection was made at the projected width (a wrong width would be refused)
        stored = index.vectors(catalog[:1])[catalog[0]]
    assert stored.shape == (72,)

    matched = match_social("2026-11-01", lake, settings)
    assert matched["model_version"] == version.version
    rows = pd.read_parquet(io.BytesIO(lake.read_bytes(matched["matches"])))
    top = rows[rows["neighbour_rank"] == 0].set_index("post_sha256")
    # Query vectors went through the same projection: a social image with a product's pixels finds that product.
    assert set(top["design_sha256"]) == {catalog[3], catalog[9]}
    assert (top["similarity"] > 0.999).all()

    encoder = make_encoder(settings, lake, version)
    assert encoder.dim == 72 and encoder.raw_dim == 256 + 64
    narrow = fit_projection(unit_rows(30, 100, 64), 100, 4)
    with pytest.raises(ProjectionMismatch, match="takes vectors 164 wide, this encoder makes 320"):
        make_encoder(settings, lake, version.base).projected(narrow, "imagenet-test_efficientnet+pca4")


def test_reindex_into_a_projected_version_fits_it_and_moves_the_alias(lake, small_settings):
    from embedding import reindex

    write_batch(lake, "shop", "2026-11-01", list(range(12)))
    write_batch(lake, "insta", "2026-11-01", [4], kind="social")
    assert embed_catalog("2026-11-01", lake, small_settings)["collection"] == "catalog_imagenet_test_efficientnet"
    result = reindex.reindex_catalog(lake=lake, settings=small_settings, version="imagenet-test_efficientnet+pcaw6")
    assert result["collection"] == "catalog_imagenet_test_efficientnet_pcaw6" and result["rows"] == 12
    assert result["previous"] == "catalog_imagenet_test_efficientnet" and result["recall"] >= 0.99
    assert lake.exists("models/imagenet-test_efficientnet/projection-w6.npz")
    matched = match_social("2026-11-01", lake, small_settings)  # readers follow the alias to the new space
    assert (matched["collection"], matched["model_version"]) == (
        result["collection"],
        "imagenet-test_efficientnet+pcaw6",
    )
