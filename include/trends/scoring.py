"""Trend scoring: each social post votes for the catalog designs it matches.

A post's vote for a design weighs

* **similarity** above the threshold: ``(sim - threshold) / (1 - threshold)`` (a match at the threshold counts 0),
* **recency**: ``0.5 ** (age_hours / half_life)``, age measured to the end of the run's date,
* **engagement**: ``1 + log1p(likes)`` divided by its mean over the posts the source showed that night, so an
  average post weighs 1 on every platform (Pinterest search gives no like counts, Instagram hundreds).

A post votes for its best design and any other within ``margin`` of it; its weight is split between them (one
post, one vote). When the match step matched garment regions (``FTI_SOCIAL_REGIONS=regions``) each region of a
post votes so, once, and a post votes at most once per design (its best region for it). Near-duplicate catalog
images (the same design on several portals) are merged before voting.

**Per-source normalisation: points per 1,000 posts seen.** A source's votes are divided by the number of posts
it delivered for the date (its validated manifest rows; the posts of its match rows when no manifest is given)
and multiplied by 1,000 and by the source's ``weight`` (``include/core/sources.yaml``, overridden by
``source_weights``): a design's points from a source are its weighted votes *per 1,000 posts the source showed*.
That rate does not depend on which other sources ran, so a source missing one night, or a new one, leaves the
points every other source hands out unchanged; a source's volume cannot buy it more points either (40 spam posts
out of 40 score like 20 out of 20). A source with fewer than ``min_source_posts`` posts is divided by
``min_source_posts`` instead (a handful of posts is noise). A design's ``current_score`` sums the points of
``current`` (street-style) sources, ``upcoming_score`` those of ``upcoming`` (fashion-week) sources, and ``score``
is their sum.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

PER_POSTS = 1000.0  # points are weighted votes per this many posts a source showed
POST_FIELDS = ["post_sha256", "source", "horizon", "likes", "posted_at", "post_url", "post_image_key", "caption"]


@dataclass(frozen=True)
class ScoringParams:
    """The knobs of :func:`weighted_votes` (from ``include.core.settings.Settings``)."""

    threshold: float = 0.5
    margin: float = 0.0
    half_life_hours: float = 72.0
    min_source_posts: int = 20
    source_weights: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings, registry_weights: Mapping[str, float] | None = None) -> ScoringParams:
        """Parameters named by the settings object; source weights from the registry, overridden by settings."""
        return cls(
            settings.match_threshold, settings.match_margin, settings.recency_half_life_hours,
            settings.min_source_posts, {**dict(registry_weights or {}), **dict(settings.source_weights)},
        )  # fmt: skip

    def as_dict(self) -> dict:
        """JSON-able form (recorded in the run manifest)."""
        return {
            "threshold": self.threshold, "margin": self.margin, "half_life_hours": self.half_life_hours,
            "min_source_posts": self.min_source_posts, "source_weights": dict(sorted(self.source_weights.items())),
        }  # fmt: skip


def post_table(matches: pd.DataFrame, posts: pd.DataFrame | None) -> pd.DataFrame:
    """Per-post data: from the validated social manifests when given, else from the match rows.

    Args:
        matches: Match rows (``embedding.matching.MATCH_COLUMNS``).
        posts: Validated social manifest rows (``include.core.layout.MANIFEST_COLUMNS``) or None.
    """
    from_matches = (
        matches.rename(columns={"post_source": "source"})
        .drop_duplicates("post_sha256")
        .reindex(columns=["post_sha256", "source", "horizon", "likes", "posted_at", "post_url", "post_image_key"])
    )
    if posts is None or posts.empty:
        return from_matches.assign(caption="").reset_index(drop=True)
    manifest = posts.rename(columns={"sha256": "post_sha256", "page_url": "post_url", "image_key": "post_image_key"})
    manifest = manifest.drop_duplicates("post_sha256").reindex(columns=POST_FIELDS)
    merged = from_matches[["post_sha256"]].merge(manifest, on="post_sha256", how="left")
    fallback = from_matches.set_index("post_sha256")
    for col in POST_FIELDS[1:-1]:  # a post missing from the manifests keeps what the match rows say
        missing = merged[col].isna()
        if missing.any():
            merged.loc[missing, col] = merged.loc[missing, "post_sha256"].map(fallback[col])
    merged["caption"] = merged["caption"].fillna("")
    return merged.reset_index(drop=True)


def recency_weight(posted_at: pd.Series, dt: str, half_life_hours: float) -> pd.Series:
    """``0.5 ** (age / half_life)`` with the age to the end of ``dt`` (unknown times count as one day old)."""
    ref = datetime.fromisoformat(dt).replace(tzinfo=UTC) + timedelta(days=1)
    times = pd.to_datetime(posted_at, utc=True, errors="coerce", format="ISO8601")
    age_h = ((ref - times).dt.total_seconds() / 3600.0).fillna(24.0).clip(lower=0.0)
    return np.power(0.5, age_h / half_life_hours)


def posts_seen(matches: pd.DataFrame, posts: pd.DataFrame | None) -> dict[str, int]:
    """Posts each source showed for the date: its validated manifest rows, else its posts among the match rows."""
    if posts is not None and not posts.empty:
        return {str(k): int(v) for k, v in posts.drop_duplicates("sha256").groupby("source").size().items()}
    if matches.empty:
        return {}
    counts = matches.drop_duplicates("post_sha256").groupby("post_source").size()
    return {str(k): int(v) for k, v in counts.items()}


def engagement_scale(matches: pd.DataFrame, posts: pd.DataFrame | None) -> dict[str, float]:
    """Per source, the mean ``1 + log1p(likes)`` of the posts it showed (manifest rows, else match rows)."""
    if posts is not None and not posts.empty:
        rows = posts.drop_duplicates("sha256")[["source", "likes"]]
    elif not matches.empty:
        rows = matches.drop_duplicates("post_sha256").rename(columns={"post_source": "source"})[["source", "likes"]]
    else:
        return {}
    likes = pd.to_numeric(rows["likes"], errors="coerce").fillna(0).clip(lower=0).astype(float)
    return {str(k): float(v) for k, v in (1.0 + np.log1p(likes)).groupby(rows["source"]).mean().items()}


def weighted_votes(
    matches: pd.DataFrame, posts: pd.DataFrame | None, dt: str, params: ScoringParams,
    groups: Mapping[str, str] | None = None,
) -> pd.DataFrame:  # fmt: skip
    """The votes of a run: one row per (post, design) with its weights and normalised ``points``.

    Args:
        matches: Match rows (``embedding.matching.MATCH_COLUMNS``).
        posts: Validated social manifest rows, for likes, time, source and horizon (None: use the match rows).
        dt: Run date.
        params: Scoring parameters.
        groups: catalog sha256 -> design id (near-duplicates share one); identity when absent.

    Returns:
        Columns ``post_sha256, design_id, design_sha256, similarity, source, horizon, likes, posted_at,
        post_url, post_image_key, w_similarity, w_recency, w_engagement, weight, points``.
    """
    cols = ["post_sha256", "design_id", "design_sha256", "similarity", "source", "horizon", "likes", "posted_at",
            "post_url", "post_image_key", "w_similarity", "w_recency", "w_engagement", "weight", "points"]  # fmt: skip
    if matches.empty:
        return pd.DataFrame(columns=cols)
    m = matches[["post_sha256", "design_sha256", "similarity"]].copy()
    # The voter: the post, or one garment region of it (one vote each).
    m["voter"] = m["post_sha256"] + ("#" + matches["region"].astype(str) if "region" in matches else "")
    m["design_id"] = m["design_sha256"].map(lambda s: (groups or {}).get(s, s))
    # Near-duplicates merged: a voter's best member per design.
    m = m.sort_values(["voter", "design_id", "similarity", "design_sha256"], ascending=[True, True, False, True])
    m = m.drop_duplicates(["voter", "design_id"], keep="first")
    best = m.groupby("voter")["similarity"].transform("max")
    m = m[(m["similarity"] >= params.threshold) & (m["similarity"] >= best - params.margin)]
    m["share"] = 1.0 / m.groupby("voter")["design_id"].transform("count")
    # A post votes at most once per design: its best region for it (the regions' shares stay theirs).
    m = m.sort_values(["post_sha256", "design_id", "similarity", "voter"], ascending=[True, True, False, True])
    m = m.drop_duplicates(["post_sha256", "design_id"], keep="first")
    if m.empty:
        return pd.DataFrame(columns=cols)
    m = m.merge(post_table(matches, posts), on="post_sha256", how="left")
    span = max(1e-9, 1.0 - params.threshold)
    m["w_similarity"] = ((m["similarity"] - params.threshold) / span).clip(lower=0.0, upper=1.0)
    m["w_recency"] = recency_weight(m["posted_at"], dt, params.half_life_hours).to_numpy()
    m["likes"] = pd.to_numeric(m["likes"], errors="coerce").fillna(0).clip(lower=0).astype("int64")
    scale = m["source"].astype(str).map(engagement_scale(matches, posts)).fillna(1.0).clip(lower=1e-9)
    m["w_engagement"] = (1.0 + np.log1p(m["likes"].astype(float))) / scale
    m["weight"] = m["w_similarity"] * m["w_recency"] * m["w_engagement"] * m["share"]
    seen = posts_seen(matches, posts)
    m["points"] = 0.0
    for source, idx in m.groupby("source", sort=True).groups.items():
        n_seen = max(seen.get(str(source), 0), m.loc[idx, "post_sha256"].nunique(), params.min_source_posts)
        rate = PER_POSTS * params.source_weights.get(str(source), 1.0) / n_seen
        m.loc[idx, "points"] = m.loc[idx, "weight"] * rate
    return m.sort_values(["design_id", "similarity", "post_sha256"], ascending=[True, False, True])[cols].reset_index(
        drop=True
    )


def score_designs(votes: pd.DataFrame) -> pd.DataFrame:
    """Scores per design id, best first (ties by design id).

    Returns:
        Index ``design_id``; columns ``score, current_score, upcoming_score, support_posts, mean_similarity``.
    """
    cols = ["score", "current_score", "upcoming_score", "support_posts", "mean_similarity"]
    if votes.empty:
        return pd.DataFrame(columns=cols, index=pd.Index([], name="design_id"))
    v = votes.assign(
        current=votes["points"].where(votes["horizon"] != "upcoming", 0.0),
        upcoming=votes["points"].where(votes["horizon"] == "upcoming", 0.0),
    )
    table = v.groupby("design_id", sort=True).agg(
        score=("points", "sum"), current_score=("current", "sum"), upcoming_score=("upcoming", "sum"),
        support_posts=("post_sha256", "nunique"), mean_similarity=("similarity", "mean"),
    )  # fmt: skip
    for col in ("score", "current_score", "upcoming_score", "mean_similarity"):
        table[col] = table[col].astype(float).round(6)
    table["support_posts"] = table["support_posts"].astype("int64")
    order = table.reset_index().sort_values(["score", "design_id"], ascending=[False, True], kind="stable")
    return table.loc[order["design_id"]]


def source_summary(votes: pd.DataFrame, seen: Mapping[str, int] | None = None) -> dict[str, dict]:
    """Per source: posts seen, voting posts, raw vote mass and points handed out (for the manifest and the report)."""
    out: dict[str, dict] = {}
    for source, g in votes.groupby("source", sort=True):
        out[str(source)] = {
            "posts": int(g["post_sha256"].nunique()), "horizon": str(g["horizon"].iloc[0]),
            "mass": round(float(g["weight"].sum()), 6), "points": round(float(g["points"].sum()), 6),
            **({"seen": int(seen.get(str(source), 0))} if seen is not None else {}),
        }  # fmt: skip
    return out


def points_by_source(votes: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Design id -> {source: points} (what momentum compares when a source is missing from one of the runs)."""
    if votes.empty:
        return {}
    sums = votes.groupby(["design_id", "source"], sort=True)["points"].sum().round(6)
    out: dict[str, dict[str, float]] = {}
    for (design, source), points in sums.items():
        out.setdefault(str(design), {})[str(source)] = float(points)
    return out
