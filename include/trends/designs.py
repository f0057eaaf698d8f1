"""One design, several offers: near-duplicate catalog images across portals become a single design.

Two catalog images are the same design when their vectors in the catalog index have cosine similarity of at
least ``near_duplicate_similarity`` (0.97), or when they are byte-identical (the same sha256 listed by several
portals). A group is named by its smallest sha256 here; :mod:`include.trends.registry` then gives it the id the
design was first given (stable across runs and re-crawls). Its offers are every (portal, product, price,
currency, url) that sells one of its images.

Vectors come from the catalog collection the matches were made against (``embedding.index.CatalogIndex``, read
only). When the index cannot be read, designs are grouped by identical image bytes and by normalised
title + brand instead (and the run's manifest says so).
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from include.core.lake import Lake
from include.core.layout import MANIFEST
from include.quality.batches import is_validated

log = logging.getLogger(__name__)
META = ["product_id", "portal", "title", "brand", "price", "currency", "product_url", "image_key"]


@dataclass
class DesignCatalog:
    """What the ranking needs to know about the voted designs."""

    groups: dict[str, str]  # catalog sha256 -> design id
    meta: dict[str, dict]  # catalog sha256 -> product metadata (META)
    offers: dict[str, list[dict]]  # design id -> offers
    vectors: dict[str, np.ndarray] = field(default_factory=dict)  # design id -> unit vector
    method: str = "vectors"  # or "sha256+title" (fallback)


def _norm(text: object) -> str:
    return re.sub(r"[^a-z0-9]+", " ", str(text or "").lower()).strip()


def meta_from_matches(matches: pd.DataFrame) -> dict[str, dict]:
    """Catalog metadata per design sha256 from the match rows."""
    rows = matches.rename(columns={"product_image_key": "image_key"}).drop_duplicates("design_sha256")
    return {r["design_sha256"]: {k: r.get(k) for k in META} for r in rows.to_dict("records")}


def latest_portal_batches(lake: Lake, dt: str) -> dict[str, str]:
    """Per portal source, the prefix of its latest validated batch at or before ``dt``."""
    latest: dict[str, tuple[str, str]] = {}  # source -> (day, prefix)
    pattern = re.compile(r"(batches/kind=portal/source=([^/]+)/dt=([0-9-]+)/)" + re.escape(MANIFEST) + "$")
    for key in lake.list("batches/kind=portal/"):
        m = pattern.match(key)
        if not m or m.group(3) > dt or m.group(3) <= latest.get(m.group(2), ("", ""))[0]:
            continue
        if is_validated(lake, m.group(1)):
            latest[m.group(2)] = (m.group(3), m.group(1))
    return {source: prefix for source, (_, prefix) in sorted(latest.items())}


def portal_offers(lake: Lake, dt: str) -> pd.DataFrame:
    """Every validated portal listing in the latest batch of each portal source at or before ``dt``."""
    frames = [
        pd.read_parquet(io.BytesIO(lake.read_bytes(p + MANIFEST))) for p in latest_portal_batches(lake, dt).values()
    ]
    if not frames:
        return pd.DataFrame(columns=["sha256", *META])
    rows = pd.concat(frames, ignore_index=True).rename(columns={"source": "portal", "page_url": "product_url"})
    return rows.reindex(columns=["sha256", *META])


def _offer(meta: dict) -> dict:
    price = meta.get("price")
    return {
        "portal": str(meta.get("portal") or ""), "product_id": str(meta.get("product_id") or ""),
        "price": None if price is None or price != price else round(float(price), 2),
        "currency": str(meta.get("currency") or ""), "url": str(meta.get("product_url") or ""),
    }  # fmt: skip


def _union(pairs: list[tuple[str, str]], nodes: list[str]) -> dict[str, str]:
    parent = {n: n for n in nodes}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {n: find(n) for n in nodes}


def read_vectors(index, shas: list[str]) -> dict[str, np.ndarray]:
    """Stored vectors of ``shas`` from a ``CatalogIndex``, as float64 unit vectors (read only)."""
    out = {}
    for sha, vec in index.vectors(shas).items():
        vec = vec.astype(np.float64)
        out[sha] = vec / max(np.linalg.norm(vec), 1e-12)
    return out


def build_catalog(
    voted: list[str], matches: pd.DataFrame, listings: pd.DataFrame, index=None, threshold: float = 0.97,
    neighbours: int = 8,
) -> DesignCatalog:  # fmt: skip
    """Group the voted catalog images into designs and collect each design's offers.

    Args:
        voted: Catalog sha256 that received at least one candidate vote.
        matches: Match rows (metadata of the voted images).
        listings: :func:`portal_offers` (byte-identical images sold by several portals).
        index: An open ``embedding.index.CatalogIndex`` (None or unreadable: fallback grouping).
        threshold: Near-duplicate cosine similarity.
        neighbours: Index neighbours looked at per voted image.
    """
    voted = sorted(set(voted))
    meta = meta_from_matches(matches)
    pairs: list[tuple[str, str]] = []
    vectors: dict[str, np.ndarray] = {}
    method = "vectors"
    try:
        if index is None:
            raise RuntimeError("no catalog index given")
        vectors = read_vectors(index, voted)
        found = [s for s in voted if s in vectors]
        hits = index.search(np.stack([vectors[s] for s in found]), neighbours) if found else []
        for sha, row in zip(found, hits, strict=True):
            for hit in row:
                if hit["sha256"] != sha and hit["similarity"] >= threshold:
                    pairs.append((sha, hit["sha256"]))
                    meta.setdefault(hit["sha256"], {**{k: hit.get(k) for k in META}, "portal": hit.get("source"),
                                                    "product_url": hit.get("page_url")})  # fmt: skip
    except Exception as exc:  # the index is optional here: group by bytes and title instead
        log.warning("near-duplicate grouping without vectors (%s): identical sha256 or title + brand", exc)
        method, vectors = "sha256+title", {}
        by_title: dict[tuple[str, str], str] = {}
        for sha in voted:
            key = (_norm(meta.get(sha, {}).get("title")), _norm(meta.get(sha, {}).get("brand")))
            if key[0] and key in by_title:
                pairs.append((by_title[key], sha))
            by_title.setdefault(key, sha)
    nodes = sorted(set(voted) | {x for p in pairs for x in p})
    groups = _union(pairs, nodes)
    offers: dict[str, list[dict]] = {}
    listed = listings.groupby("sha256") if not listings.empty else None
    for sha in nodes:
        design = groups[sha]
        items = [_offer(meta.get(sha, {}))]
        if listed is not None and sha in listed.groups:
            items += [_offer(r) for r in listed.get_group(sha).to_dict("records")]
        offers.setdefault(design, []).extend(o for o in items if o["portal"] or o["url"])
    for design, items in offers.items():
        # one offer per listing; the portal manifest (the latest crawl) wins over the index's copy
        unique = {(o["portal"], o["product_id"] or o["url"]): o for o in items}
        offers[design] = sorted(unique.values(), key=lambda o: (o["price"] is None, o["price"] or 0, o["portal"],
                                                                o["product_id"]))  # fmt: skip
    design_vectors: dict[str, np.ndarray] = {}
    for sha in sorted(vectors):
        design_vectors.setdefault(groups[sha], vectors[sha])
    return DesignCatalog(groups, meta, offers, design_vectors, method)
