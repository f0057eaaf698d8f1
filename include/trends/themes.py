"""Themes: the run's matched social images clustered into looks (scikit-learn agglomerative clustering).

Each voting post is represented by the catalog vector of the design it voted for; the voted designs are
clustered with average-linkage agglomerative clustering on cosine distance, cut at ``distance`` (no fixed k).
A cluster with at least ``min_posts`` matched posts is a theme: its size (posts), score (sum of its designs'
scores), growth against the previous run, exemplar posts (highest points first) and the designs that match
it. Theme ids (``T01`` ...) follow the score, so the strongest theme of a run is ``T01``.
"""

from __future__ import annotations

import json
import re
from collections import Counter

import numpy as np
import pandas as pd

THEME_COLUMNS = [
    "theme", "name", "posts", "designs", "score", "current_score", "upcoming_score", "previous_score", "growth",
    "momentum", "design_ids", "exemplars", "dt", "run_id",
]  # fmt: skip
STOP = {"by", "and", "the", "with", "a", "of", "print"}


def _name(titles: list[str]) -> str:
    words = Counter(w for t in titles for w in set(re.findall(r"[a-z][a-z-]+", t.lower())) if w not in STOP)
    return " ".join(w for w, _ in sorted(words.items(), key=lambda kv: (-kv[1], kv[0]))[:3]) or "misc"


def cluster_designs(vectors: dict[str, np.ndarray], distance: float) -> tuple[dict[str, int], float | None]:
    """Cluster labels per design id and the silhouette score of the cut (None when undefined)."""
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.metrics import silhouette_score

    ids = sorted(vectors)
    if len(ids) < 2:
        return {d: 0 for d in ids}, None
    x = np.stack([vectors[d] for d in ids])
    labels = AgglomerativeClustering(
        n_clusters=None, distance_threshold=distance, metric="cosine", linkage="average"
    ).fit_predict(x)
    k = len(set(labels))
    quality = float(silhouette_score(x, labels, metric="cosine")) if 1 < k < len(ids) else None
    return dict(zip(ids, (int(v) for v in labels), strict=True)), quality


def build_themes(
    vectors: dict[str, np.ndarray], scores: pd.DataFrame, votes: pd.DataFrame, titles: dict[str, str],
    previous: pd.DataFrame, dt: str, distance: float = 0.35, min_posts: int = 3, change: float = 0.25,
    exemplars: int = 4,
) -> tuple[pd.DataFrame, dict[str, str], dict]:  # fmt: skip
    """Themes of a run.

    Args:
        vectors: Unit vector per design id (designs without one get no theme).
        scores: ``include.trends.scoring.score_designs``.
        votes: ``include.trends.scoring.weighted_votes``.
        titles: Design id -> title (names the theme).
        previous: History rows of earlier runs (``include.trends.momentum.previous_runs``) for growth.
        dt: Run date.
        distance: Cosine distance at which the dendrogram is cut.
        min_posts: Smaller clusters are not themes.
        change: Relative growth that counts as rising / falling.
        exemplars: Exemplar posts kept per theme.

    Returns:
        The themes table (``THEME_COLUMNS`` without ``run_id`` filled), design id -> theme id, and clustering
        statistics (clusters, silhouette) for the manifest.
    """
    labels, silhouette = cluster_designs({d: v for d, v in vectors.items() if d in scores.index}, distance)
    prev_dt = str(previous["dt"].max()) if not previous.empty else None
    last = previous[previous["dt"] == prev_dt].set_index("design_id")["score"] if prev_dt else pd.Series(dtype=float)
    clusters = []
    for label in sorted(set(labels.values())):
        members = sorted(d for d, v in labels.items() if v == label)
        v = votes[votes["design_id"].isin(members)]
        if v["post_sha256"].nunique() < min_posts:
            continue
        s = scores.loc[members]
        ranked = s.sort_values("score", ascending=False, kind="stable")
        top = v.sort_values(["points", "post_sha256"], ascending=[False, True]).drop_duplicates("post_sha256")
        prev = float(last.reindex(members).fillna(0.0).sum()) if prev_dt else None
        score = round(float(s["score"].sum()), 6)
        growth = None if not prev else round((score - prev) / prev, 6)
        momentum = "new" if not prev else "rising" if growth >= change else "falling" if growth <= -change else "steady"
        clusters.append({
            "name": _name([titles.get(d, "") for d in ranked.index[:5]]), "posts": int(v["post_sha256"].nunique()),
            "designs": len(members), "score": score, "current_score": round(float(s["current_score"].sum()), 6),
            "upcoming_score": round(float(s["upcoming_score"].sum()), 6), "previous_score": prev, "growth": growth,
            "momentum": momentum, "design_ids": json.dumps(list(ranked.index[:20])),
            "exemplars": json.dumps([
                {"post_url": r.post_url, "image_key": r.post_image_key, "source": r.source,
                 "similarity": round(float(r.similarity), 4)}
                for r in top.head(exemplars).itertuples()
            ], sort_keys=True),
            "members": members,
        })  # fmt: skip
    clusters.sort(key=lambda c: (-c["score"], c["members"][0]))
    assignment: dict[str, str] = {}
    for i, c in enumerate(clusters, start=1):
        c["theme"] = f"T{i:02d}"
        assignment.update({d: c["theme"] for d in c.pop("members")})
    table = pd.DataFrame(clusters, columns=THEME_COLUMNS).assign(dt=dt)
    table["previous_score"] = table["previous_score"].astype(float)
    table["growth"] = table["growth"].astype(float)
    stats = {"clusters": len(set(labels.values())), "themes": len(table), "distance": distance,
             "silhouette": None if silhouette is None else round(silhouette, 4)}  # fmt: skip
    return table, assignment, stats
