"""The embed stage: validated catalog batches of a date → vectors in the Milvus collection."""

from __future__ import annotations

import logging
from typing import Any

from include.batches import validated_manifest
from include.lake import Lake, open_lake
from include.progress import progress_bar
from include.settings import Settings, get_settings

log = logging.getLogger(__name__)


def open_index(settings: Settings, dim: int):
    """The catalog collection named by the settings, created when missing."""
    from embedding.index import CatalogIndex

    index = CatalogIndex(settings.resolved_milvus_uri(), settings.collection, dim, settings.milvus_token)
    index.ensure()
    return index


def make_encoder(settings: Settings):
    """The encoder the settings name."""
    from embedding.encoder import Encoder

    return Encoder(
        settings.model_name,
        settings.pretrained,
        settings.device,
        settings.embed_batch_size,
        settings.colour_weight,
    )


def embed_catalog(dt: str, lake: Lake | None = None, settings: Settings | None = None) -> dict[str, Any]:
    """Embed every catalog image of ``dt`` that has no vector yet and upsert it with its product metadata.

    Returns:
        Counts: ``rows`` in the day's validated catalog, ``embedded`` new vectors, ``already`` indexed,
        ``skipped`` undecodable images, ``collection`` size after the run.
    """
    settings = settings or get_settings()
    lake = lake or open_lake(settings.lake, settings.s3_endpoint_url)
    manifest = validated_manifest(lake, "portal", dt)
    encoder = make_encoder(settings)
    skipped: list[str] = []
    with open_index(settings, encoder.dim) as index:
        already = index.existing(manifest["sha256"].tolist())
        todo = manifest[~manifest["sha256"].isin(already)].reset_index(drop=True)
        log.info("catalog %s: %d rows, %d already indexed, %d to embed", dt, len(manifest), len(already), len(todo))
        for start in range(0, len(todo), 512):
            chunk = todo.iloc[start : start + 512]
            blobs = [lake.read_bytes(k) for k in chunk["image_key"]]
            with progress_bar(len(chunk), f"embed catalog {start}+") as bar:
                vectors, kept = encoder.embed_bytes(
                    blobs,
                    on_error=lambda i, exc, c=chunk: skipped.append(f"{c.iloc[i]['image_key']}: {exc}"),
                    progress=bar,
                )
            rows = chunk.iloc[kept].assign(dt=dt).to_dict("records")
            index.upsert(rows, vectors)
        total = index.count()
    for item in skipped:
        log.warning("skipped undecodable catalog image %s", item)
    return {
        "dt": dt, "rows": len(manifest), "embedded": len(todo) - len(skipped), "already": len(already),
        "skipped": len(skipped), "collection": total,
    }  # fmt: skip
