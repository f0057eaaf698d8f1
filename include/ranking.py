"""Winning designs: social posts vote for the catalog designs they match.

A post votes for its best catalog neighbour and for any other neighbour within ``margin`` of it, provided the
cosine similarity reaches ``threshold``. A design's score is the sum of its votes' similarities, split into
``current_score`` (street-style sources) and ``upcoming_score`` (fashion-week sources) by the source's horizon.
"""

from __future__ import annotations

import json

import pandas as pd

TABLE_COLUMNS = [
    "rank", "design_id", "product_id", "portal", "title", "brand", "price", "currency", "product_url",
    "image_key", "score", "current_score", "upcoming_score", "support_posts", "mean_similarity",
    "evidence", "dt",
]  # fmt: skip


def votes(matches: pd.DataFrame, threshold: float, margin: float) -> pd.DataFrame:
    """The (post, design) pairs that count as votes."""
    if matches.empty:
        return matches.assign(best=pd.Series(dtype=float))
    best = matches.groupby("post_sha256")["similarity"].transform("max")
    keep = (matches["similarity"] >= threshold) & (matches["similarity"] >= best - margin)
    return matches[keep].assign(best=best[keep])


def rank_designs(
    matches: pd.DataFrame, dt: str, threshold: float = 0.5, margin: float = 0.02, top_n: int = 50,
    evidence_per_design: int = 5,
) -> pd.DataFrame:  # fmt: skip
    """Aggregate match rows (see ``embedding.matching.MATCH_COLUMNS``) into the ranked table.

    Returns:
        ``TABLE_COLUMNS``, best design first; ties broken by design id so reruns are identical.
    """
    voted = votes(matches, threshold, margin)
    if voted.empty:
        return pd.DataFrame(columns=TABLE_COLUMNS)
    voted = voted.assign(
        current=voted["similarity"].where(voted["horizon"] == "current", 0.0),
        upcoming=voted["similarity"].where(voted["horizon"] == "upcoming", 0.0),
    )
    grouped = voted.groupby("design_sha256", sort=True)
    table = grouped.agg(
        score=("similarity", "sum"),
        current_score=("current", "sum"),
        upcoming_score=("upcoming", "sum"),
        support_posts=("post_sha256", "nunique"),
        mean_similarity=("similarity", "mean"),
        product_id=("product_id", "first"),
        portal=("portal", "first"),
        title=("title", "first"),
        brand=("brand", "first"),
        price=("price", "first"),
        currency=("currency", "first"),
        product_url=("product_url", "first"),
        image_key=("product_image_key", "first"),
    ).reset_index(names="design_id")
    evidence = {
        design: json.dumps(
            [
                {
                    "post_url": r.post_url,
                    "image_key": r.post_image_key,
                    "source": r.post_source,
                    "similarity": round(float(r.similarity), 4),
                }
                for r in group.sort_values(["similarity", "post_sha256"], ascending=[False, True])
                .head(evidence_per_design)
                .itertuples()
            ],
            sort_keys=True,
        )  # fmt: skip
        for design, group in grouped
    }
    table["evidence"] = table["design_id"].map(evidence)
    for col in ("score", "current_score", "upcoming_score", "mean_similarity"):
        table[col] = table[col].astype(float).round(6)
    table = table.sort_values(["score", "design_id"], ascending=[False, True], kind="stable").head(top_n)
    table = table.reset_index(drop=True)
    table["rank"] = range(1, len(table) + 1)
    table["dt"] = dt
    return table[TABLE_COLUMNS]
