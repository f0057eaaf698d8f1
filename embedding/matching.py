"""The match step of ranking: a date's validated social images → their nearest catalog products."""

from __future__ import annotations

import io
import logging
from typing import Any

import pandas as pd

from embedding.service import connect, service_index
from include.core.lake import Lake, open_lake
from include.core.layout import matches_key
from include.core.progress import progress_bar
from include.core.settings import Settings, get_settings
from include.quality.batches import validated_manifest

log = logging.getLogger(__name__)

MATCH_COLUMNS = [
    "post_sha256", "post_source", "horizon", "post_url", "post_image_key", "likes", "posted_at",
    "neighbour_rank", "design_sha256", "similarity", "product_id", "portal", "title", "brand", "price",
    "currency", "product_url", "product_image_key", "region", "region_box", "region_score", "region_category",
]  # fmt: skip


class NoSocialPosts(RuntimeError):
    """The date has no validated social images to match."""


class EmptyCatalog(RuntimeError):
    """The collection in service holds no catalog vectors yet (the embed stage has not run)."""


def match_social(dt: str, lake: Lake | None = None, settings: Settings | None = None) -> dict[str, Any]:
    """Embed the date's social images, find each one's top-k catalog neighbours, and store the matches.

    Returns:
        ``matches`` (lake key of the parquet table), ``posts`` matched, ``rows``, ``skipped``, the
        ``model_version`` that embedded both sides and the ``collection`` (behind the alias) searched.

    Raises:
        NoSocialPosts: no validated social batch for ``dt``.
        EmptyCatalog: the collection in service is empty.
        embedding.index.CatalogIndexError: no collection in service, or Milvus unreachable.
    """
    settings = settings or get_settings()
    lake = lake or open_lake(settings.lake, settings.s3_endpoint_url)
    posts = validated_manifest(lake, "social", dt)
    if posts.empty:
        raise NoSocialPosts(f"no validated social images for {dt}: crawl and validate a social source first")
    blobs = [lake.read_bytes(k) for k in posts["image_key"]]
    skipped: list[int] = []
    with connect(settings) as conn:
        index, encoder = service_index(conn, lake, settings, create=False)
        if index.count() == 0:
            raise EmptyCatalog(f"the catalog collection {index.collection} is empty: run the embed stage")
        regions, outcomes = None, None
        with progress_bar(len(blobs), "embed social") as bar:
            if settings.social_regions == "regions":  # every garment region of a post is matched on its own
                from embedding.regions import region_vectors

                vectors, kept, regions, skipped, outcomes = region_vectors(encoder, settings, blobs, bar)
            else:
                vectors, kept = encoder.embed_bytes(blobs, on_error=lambda i, exc: skipped.append(i), progress=bar)
        neighbours = index.search(vectors, settings.top_k)
    rows = []
    for row, (post_idx, hits) in enumerate(zip(kept, neighbours, strict=True)):
        post = posts.iloc[post_idx]
        where = regions[row] if regions is not None else {"region": 0, "region_box": "", "region_score": 1.0,
                                              "region_category": ""}  # fmt: skip
        for rank, hit in enumerate(hits):
            rows.append(
                {
                    "post_sha256": post["sha256"], "post_source": post["source"], "horizon": post["horizon"],
                    "post_url": post["page_url"], "post_image_key": post["image_key"],
                    "likes": int(post["likes"]) if pd.notna(post["likes"]) else 0,
                    "posted_at": post["posted_at"], "neighbour_rank": rank, "design_sha256": hit["sha256"],
                    "similarity": round(hit["similarity"], 6), "product_id": hit.get("product_id"),
                    "portal": hit.get("source"), "title": hit.get("title"), "brand": hit.get("brand"),
                    "price": hit.get("price"), "currency": hit.get("currency"),
                    "product_url": hit.get("page_url"), "product_image_key": hit.get("image_key"), **where,
                }
            )  # fmt: skip
    frame = pd.DataFrame(rows, columns=MATCH_COLUMNS)
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    key = matches_key(dt)
    lake.write_bytes(key, buf.getvalue())
    for i in skipped:
        log.warning("skipped undecodable social image %s", posts.iloc[i]["image_key"])
    return {
        "dt": dt, "matches": key, "posts": len(set(kept)), "rows": len(frame), "skipped": len(skipped),
        "model_version": encoder.version, "collection": index.collection, "social_regions": settings.social_regions,
        **({"region_outcomes": outcomes} if outcomes is not None else {}),
    }  # fmt: skip
