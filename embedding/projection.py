"""Narrower served vectors for the pretrained backbone: a PCA (optionally whitened) fitted on the catalog.

The pretrained path serves ``1280`` backbone features + ``64`` colour bins = 1,344 floats per vector; a trained
champion already projects to its ``embedding_dim``. With ``FTI_EMBED_PROJECTION_DIM=k`` (0: off) the backbone
feature columns are projected onto the catalog's first ``k`` principal axes (scikit-learn's PCA, fitted once on
up to ``FTI_EMBED_PROJECTION_SAMPLE`` catalog images); the colour part is kept as it is, with the share of the
vector it had before. The model version becomes ``imagenet-<model>+pca<k>`` (``+pcaw<k>`` whitened), its
collection ``catalog_imagenet_<model>_pca<k>``, and the fitted projection is stored once with the model version,
``models/imagenet-<model>/projection-<k>.npz`` (``-w<k>`` whitened). The encoder applies it to every vector
it makes, catalog images at embed time and social images at query time, so both live in one space; a
projection whose input width is not the encoder's is refused (:class:`ProjectionMismatch`).
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass

import numpy as np

_SUFFIX = re.compile(r"^(?P<base>.+)\+pca(?P<whiten>w?)(?P<dim>[0-9]+)$")


class ProjectionError(RuntimeError):
    """A projection cannot be fitted or loaded."""


class ProjectionMismatch(ProjectionError):
    """Vectors whose width is not the one the projection was fitted on."""


@dataclass(frozen=True, eq=False)
class Projection:
    """Project the backbone feature columns of unit vectors; the colour columns after them pass through.

    Attributes:
        mean: ``(F,)`` mean of the unit feature parts it was fitted on.
        components: ``(F, k)`` principal axes (divided by the square root of their variance when whitened).
        colour_dim: Colour columns after the ``F`` feature columns (kept as they are).
        whiten: Whether the axes were scaled to unit variance.
        fitted_rows: Images it was fitted on.
    """

    mean: np.ndarray
    components: np.ndarray
    colour_dim: int
    whiten: bool = False
    fitted_rows: int = 0

    @property
    def feature_dim(self) -> int:
        """Backbone feature columns it takes."""
        return int(self.components.shape[0])

    @property
    def in_dim(self) -> int:
        """Width of the vectors it takes (features + colour)."""
        return self.feature_dim + self.colour_dim

    @property
    def dim(self) -> int:
        """Width of the vectors it makes (projected features + colour)."""
        return int(self.components.shape[1]) + self.colour_dim

    def apply(self, vectors: np.ndarray) -> np.ndarray:
        """Project ``(N, in_dim)`` vectors to unit ``(N, dim)`` float32.

        The projected feature part gets the norm the feature part had, so the colour keeps its share.

        Raises:
            ProjectionMismatch: the vectors are not ``in_dim`` wide.
        """
        vectors = np.asarray(vectors, np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.in_dim:
            raise ProjectionMismatch(
                f"vectors of shape {vectors.shape} do not fit a projection fitted on width {self.in_dim} "
                f"({self.feature_dim} features + {self.colour_dim} colour): re-fit it for this encoder or set "
                "FTI_EMBED_PROJECTION_DIM=0"
            )
        feat, colour = vectors[:, : self.feature_dim], vectors[:, self.feature_dim :]
        norm = np.linalg.norm(feat, axis=1, keepdims=True)
        z = (feat / np.maximum(norm, 1e-12) - self.mean) @ self.components
        z *= norm / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)
        out = np.hstack([z, colour]).astype(np.float32)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)

    def to_bytes(self) -> bytes:
        """The projection as an ``.npz`` file."""
        buf = io.BytesIO()
        np.savez(
            buf, mean=self.mean, components=self.components, colour_dim=self.colour_dim, whiten=self.whiten,
            fitted_rows=self.fitted_rows,
        )  # fmt: skip
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Projection:
        """Read :meth:`to_bytes`' output."""
        with np.load(io.BytesIO(data)) as z:
            return cls(
                z["mean"].astype(np.float32), z["components"].astype(np.float32), int(z["colour_dim"]),
                bool(z["whiten"]), int(z["fitted_rows"]),
            )  # fmt: skip

    def sha256(self) -> str:
        """Content hash of the fitted arrays."""
        return hashlib.sha256(self.mean.tobytes() + self.components.tobytes()).hexdigest()


def fit_projection(vectors: np.ndarray, feature_dim: int, dim: int, whiten: bool = False) -> Projection:
    """Fit a PCA of the feature columns of unit ``vectors`` (``feature_dim`` features, then colour columns).

    Raises:
        ProjectionError: fewer images than ``dim`` + 1, or ``dim`` above ``feature_dim``.
    """
    from sklearn.decomposition import PCA

    vectors = np.asarray(vectors, np.float32)
    if not 0 < dim <= feature_dim:
        raise ProjectionError(f"projection dim {dim} must be in 1..{feature_dim} (the backbone's features)")
    if len(vectors) <= dim:
        raise ProjectionError(
            f"{len(vectors)} catalog images cannot fit a {dim}-dim projection (need more than {dim}): embed more "
            "of the catalog first, lower FTI_EMBED_PROJECTION_DIM, or set it to 0"
        )
    feat = vectors[:, :feature_dim]
    feat = feat / np.maximum(np.linalg.norm(feat, axis=1, keepdims=True), 1e-12)
    pca = PCA(n_components=dim, whiten=whiten, svd_solver="randomized", random_state=0).fit(feat)
    components = pca.components_.T.astype(np.float32)
    if whiten:
        components /= np.sqrt(np.maximum(pca.explained_variance_, 1e-12)).astype(np.float32)
    return Projection(pca.mean_.astype(np.float32), components, vectors.shape[1] - feature_dim, whiten, len(vectors))


def projected_version(base: str, dim: int, whiten: bool = False) -> str:
    """``<base>+pca<dim>`` (``+pcaw<dim>`` whitened); ``base`` itself when ``dim`` is 0."""
    return f"{base}+pca{'w' if whiten else ''}{dim}" if dim else base


def split_version(version: str) -> tuple[str, int, bool]:
    """``(base version, dim, whiten)`` of a version; dim 0 when it names no projection."""
    m = _SUFFIX.match(version)
    return (m["base"], int(m["dim"]), bool(m["whiten"])) if m else (version, 0, False)


def projection_key(version: str) -> str:
    """Lake key of the projection of a projected version, stored with its base model version."""
    base, dim, whiten = split_version(version)
    if not dim:
        raise ProjectionError(f"model version {version} names no projection")
    return f"models/{base}/projection-{'w' if whiten else ''}{dim}.npz"


def save_projection(lake, version: str, projection: Projection) -> str:
    """Store the projection of ``version`` once; a stored one is never replaced (vectors were made with it).

    Returns:
        Its lake key.
    """
    key = projection_key(version)
    if not lake.exists(key):
        lake.write_bytes(key, projection.to_bytes())
    return key


def load_projection(lake, version: str) -> Projection:
    """The stored projection of ``version``.

    Raises:
        ProjectionError: none is stored (the embed stage fits it on the catalog's first run).
    """
    key = projection_key(version)
    if lake is None or not lake.exists(key):
        where = lake.uri(key) if lake is not None else key
        raise ProjectionError(f"model version {version}: no projection at {where}; the embed stage fits it")
    return Projection.from_bytes(lake.read_bytes(key))
