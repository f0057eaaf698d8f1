"""Themes: the run's matched social images clustered into looks (scikit-learn agglomerative clustering).

Each voting post is represented by the catalog vector of the design it voted for; the voted designs are
clustered with average-linkage agglomerative clustering on cosine distance, cut at ``distance`` (no fixed k).
A cluster with at least ``min_posts`` matched posts is a theme: its size (posts), score (sum of its designs'
scores), growth against the previous run, exemplar posts (highest points first) and the designs that match
it. :func:`build_themes` numbers a run's themes by score (``T01`` the strongest).

**Stable ids** (:func:`stable_ids`): a theme keeps its id from run to run. The theme registry
``history/themes/dt=<d>/part.parquet`` holds, after each run, every theme seen so far (id, name, members,
centroid, first and last date). A run's themes are matched one to one (Hungarian assignment) with the registry of
the latest earlier run by their members (Jaccard overlap of design ids) and their centroids (cosine of the mean
unit vectors): a pair counts when the overlap is at least ``min_overlap`` or the cosine at least ``min_cosine``,
and pairs are chosen to maximise overlap + cosine. A matched theme takes the registry's id; an unmatched one a
new id after the highest ever given; a registry theme absent from the run stays in the registry (it may come
back) until it has been absent ``keep_days``.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter

import numpy as np
import pandas as pd

from include.core.lake import Lake
from include.core.layout import THEME_REGISTRY_PREFIX, theme_registry_key
from include.trends.momentum import partition_dates, read_partition

log = logging.getLogger(__name__)
THEME_COLUMNS = [
    "theme", "name", "posts", "designs", "score", "current_score", "upcoming_score", "previous_score", "growth",
    "momentum", "design_ids", "exemplars", "dt", "run_id",
]  # fmt: skip
STOP = {"by", "and", "the", "with", "a", "of", "print"}
REGISTRY_COLUMNS = ["theme", "name", "members", "centroid", "first_dt", "last_dt"]


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
    exemplars: int = 4, now: pd.Series | None = None,
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
        now: This run's scores as compared with ``previous`` (``include.trends.momentum.comparable``: only the
            sources present in both); default ``scores["score"]``.

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
        compared = score if now is None else float(now.reindex(members).fillna(0.0).sum())
        growth = None if not prev else round((compared - prev) / prev, 6)
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


def read_registry(lake: Lake, dt: str) -> tuple[pd.DataFrame, list[str]]:
    """The theme registry of the latest run before ``dt`` (empty when none), and notes on unreadable partitions."""
    notes = []
    for day in reversed([d for d in partition_dates(lake, THEME_REGISTRY_PREFIX) if d < dt]):
        frame, why = read_partition(lake, theme_registry_key(day), REGISTRY_COLUMNS)
        if frame is not None:
            return frame[REGISTRY_COLUMNS], notes
        log.error("theme registry %s is unreadable, an earlier one is used: %s", theme_registry_key(day), why)
        notes.append(f"{theme_registry_key(day)} unreadable: {why}")
    return pd.DataFrame(columns=REGISTRY_COLUMNS), notes


def _number(theme: str) -> int:
    m = re.fullmatch(r"T(\d+)", str(theme))
    return int(m.group(1)) if m else 0


def _centroid(members: list[str], vectors: dict[str, np.ndarray]) -> np.ndarray:
    mean = np.mean([vectors[d] for d in members if d in vectors], axis=0)
    return mean / max(float(np.linalg.norm(mean)), 1e-12)


def stable_ids(
    table: pd.DataFrame, assignment: dict[str, str], vectors: dict[str, np.ndarray], registry: pd.DataFrame,
    dt: str, min_overlap: float = 0.3, min_cosine: float = 0.8, keep_days: int = 366,
) -> tuple[pd.DataFrame, dict[str, str], pd.DataFrame, dict]:  # fmt: skip
    """Give the run's themes (:func:`build_themes`) the ids of the registry's themes they continue.

    Returns:
        The themes table and the design -> theme assignment with stable ids, the registry after this run
        (``REGISTRY_COLUMNS``) and statistics (matched, new, carried) for the manifest.
    """
    from scipy.optimize import linear_sum_assignment

    members = {t: sorted(d for d, v in assignment.items() if v == t) for t in table["theme"]}
    centroids = {t: _centroid(m, vectors) for t, m in members.items()}
    previous = registry.reset_index(drop=True)
    score = np.full((len(members), len(previous)), -np.inf)
    for i, t in enumerate(members):
        for j, r in enumerate(previous.itertuples()):
            old = set(r.members)
            overlap = len(old & set(members[t])) / max(1, len(old | set(members[t])))
            old_centroid = np.asarray(r.centroid, dtype=float)
            cosine = float(centroids[t] @ old_centroid) if old_centroid.shape == centroids[t].shape else 0.0
            if overlap >= min_overlap or cosine >= min_cosine:
                score[i, j] = overlap + cosine
    mapping: dict[str, str] = {}
    if score.size and np.isfinite(score).any():
        rows, cols = linear_sum_assignment(np.where(np.isfinite(score), -score, 1e6))
        for i, j in zip(rows, cols, strict=True):
            if np.isfinite(score[i, j]):
                mapping[list(members)[i]] = str(previous.loc[j, "theme"])
    highest = max([_number(t) for t in previous["theme"]] + [0])
    for t in members:  # table order: new ids by score
        if t not in mapping:
            highest += 1
            mapping[t] = f"T{highest:02d}"
    first = dict(zip(previous["theme"], previous["first_dt"], strict=True))
    names = dict(zip(table["theme"], table["name"], strict=True))
    rows_now = [{"theme": mapping[t], "name": names[t], "members": members[t],
                 "centroid": centroids[t].astype(np.float32).tolist(), "first_dt": first.get(mapping[t], dt),
                 "last_dt": dt} for t in members]  # fmt: skip
    cutoff = (pd.Timestamp(dt) - pd.Timedelta(days=keep_days)).strftime("%Y-%m-%d")
    carried = previous[~previous["theme"].isin(mapping.values()) & (previous["last_dt"].astype(str) >= cutoff)]
    updated = pd.concat([pd.DataFrame(rows_now, columns=REGISTRY_COLUMNS), carried[REGISTRY_COLUMNS]],
                        ignore_index=True)  # fmt: skip
    updated = updated.assign(order=updated["theme"].map(_number)).sort_values("order")[REGISTRY_COLUMNS]
    known = set(previous["theme"])
    stats = {"matched": sum(m in known for m in mapping.values()), "new": sum(m not in known for m in mapping.values()),
             "carried": len(carried)}  # fmt: skip
    return (table.assign(theme=table["theme"].map(mapping)), {d: mapping[t] for d, t in assignment.items()},
            updated.reset_index(drop=True), stats)  # fmt: skip
