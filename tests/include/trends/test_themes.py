from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd

from include.trends.scoring import ScoringParams, score_designs, weighted_votes
from include.trends.themes import THEME_COLUMNS, build_themes, cluster_designs
from tests.include.trends.test_ranking import match


def looks(seed=0):
    """Three looks of two designs each (cosine ~0.98 inside a look, ~0 across) and a loner."""
    rng = np.random.default_rng(seed)
    vectors = {}
    for look in ("a", "b", "c", "z"):
        centre = rng.standard_normal(64)
        for member in ("1", "2"):
            v = centre + 0.1 * rng.standard_normal(64)
            vectors[look + member] = v / np.linalg.norm(v)
    return vectors


def test_agglomerative_cut_finds_the_looks():
    labels, silhouette = cluster_designs(looks(), distance=0.2)
    assert len(set(labels.values())) == 4
    assert all(labels[x + "1"] == labels[x + "2"] for x in "abcz")
    assert silhouette > 0.8


def test_themes_have_size_growth_exemplars_and_designs():
    vectors = looks()
    rows = [match(f"pa{i}", "a1" if i % 2 else "a2", 0.9) for i in range(6)]
    rows += [match(f"pb{i}", "b1", 0.85, horizon="upcoming", source="pins") for i in range(3)]
    rows += [match("pz", "z1", 0.9)]  # one post: no theme
    votes = weighted_votes(pd.DataFrame(rows), None, "2026-11-02", ScoringParams(min_source_posts=1))
    scores = score_designs(votes)
    previous = pd.DataFrame({"dt": "2026-11-01", "design_id": ["a1", "a2", "b1"], "score": [40.0, 40.0, 20.0]})
    titles = {"a1": "Red gingham dress", "a2": "Red gingham skirt", "b1": "Navy pinstripe shirt", "z1": "Grey tee"}
    table, assignment, stats = build_themes(vectors, scores, votes, titles, previous, "2026-11-02", 0.2, 2)
    assert list(table.columns) == THEME_COLUMNS and list(table.theme) == ["T01", "T02"]
    assert list(table.score) == sorted(table.score, reverse=True)  # T01 is the strongest
    assert assignment["a1"] == assignment["a2"] != assignment["b1"] and "z1" not in assignment
    a, b = (table.set_index("theme").loc[assignment[d]] for d in ("a1", "b1"))
    assert a["name"] == "gingham red dress" and a.posts == 6 and a.designs == 2
    assert b.upcoming_score == round(b.score, 6) > 0 and b.current_score == 0.0
    assert a.previous_score == 80.0 and a.growth == round((a.score - 80) / 80, 6)
    assert b.momentum == "rising" and a.momentum in {"rising", "steady", "falling"}
    exemplars = json.loads(a.exemplars)
    assert len(exemplars) == 4 and {e["image_key"] for e in exemplars} <= {f"images/full/pa{i}.jpg" for i in range(6)}
    assert json.loads(a.design_ids) == sorted(["a1", "a2"], key=lambda d: -scores.loc[d, "score"])
    assert stats["themes"] == 2 and stats["clusters"] == 3


def registry_row(theme, members, centroid, last_dt="2026-11-01"):
    return {"theme": theme, "name": theme.lower(), "members": members, "centroid": list(centroid),
            "first_dt": "2026-10-01", "last_dt": last_dt}  # fmt: skip


def test_stable_ids_follow_members_and_centroids(tmp_path):
    from include.core.lake import LocalLake
    from include.core.layout import theme_registry_key
    from include.trends.themes import REGISTRY_COLUMNS, read_registry, stable_ids

    vectors = looks()
    centre = {x: (vectors[x + "1"] + vectors[x + "2"]) / np.linalg.norm(vectors[x + "1"] + vectors[x + "2"])
              for x in "abcz"}  # fmt: skip
    registry = pd.DataFrame([
        registry_row("T01", ["a1", "a2"], centre["a"]),
        registry_row("T05", ["old-b1", "old-b2"], centre["b"]),  # the same look, re-crawled: only the centroid matches
        registry_row("T02", ["z1", "z2"], centre["z"]),  # absent from this run: carried
        registry_row("T03", ["gone"], centre["z"], last_dt="2025-01-01"),  # absent for over a year: dropped
    ], columns=REGISTRY_COLUMNS)  # fmt: skip
    table = pd.DataFrame({"theme": ["T01", "T02", "T03"], "name": ["b look", "a look", "c look"]})
    assignment = {"b1": "T01", "b2": "T01", "a1": "T02", "c1": "T03", "c2": "T03"}  # ids of this run, by score
    out, ids, updated, stats = stable_ids(table, assignment, vectors, registry, "2026-11-02")
    assert out["theme"].tolist() == ["T05", "T01", "T06"]  # b keeps T05, a keeps T01, c is new after T05
    assert ids == {"b1": "T05", "b2": "T05", "a1": "T01", "c1": "T06", "c2": "T06"}
    assert updated["theme"].tolist() == ["T01", "T02", "T05", "T06"] and stats == {"matched": 2, "new": 1, "carried": 1}
    row = updated.set_index("theme").loc["T05"]
    assert row["members"] == ["b1", "b2"] and row["first_dt"] == "2026-10-01" and row["last_dt"] == "2026-11-02"

    lake = LocalLake(tmp_path)  # the registry round-trips through the lake; the latest earlier one is read
    buf = io.BytesIO()
    updated.to_parquet(buf, index=False)
    lake.write_bytes(theme_registry_key("2026-11-02"), buf.getvalue())
    lake.write_bytes(theme_registry_key("2026-11-03"), b"broken")
    again, notes = read_registry(lake, "2026-11-04")
    assert again["theme"].tolist() == updated["theme"].tolist() and "unreadable" in notes[0]
    rerun, _, _, _ = stable_ids(table, assignment, vectors, again, "2026-11-04")
    assert rerun["theme"].tolist() == ["T05", "T01", "T06"]
    assert read_registry(lake, "2026-11-02")[0].empty  # nothing before the first run
