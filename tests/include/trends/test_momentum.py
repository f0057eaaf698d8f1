from __future__ import annotations

import pandas as pd

from include.core.lake import LocalLake
from include.core.layout import history_key
from include.trends.momentum import classify, history_frame, previous_runs


def hist(dt, scores):
    return pd.DataFrame({"dt": dt, "run_id": "r", "design_id": list(scores), "score": list(scores.values()),
                         "current_score": 0.0, "upcoming_score": 0.0, "support_posts": 1, "theme": None})  # fmt: skip


def test_classify_against_the_mean_of_earlier_runs():
    previous = pd.concat([hist("2026-11-01", {"up": 10.0, "down": 10.0, "flat": 10.0, "back": 5.0}),
                          hist("2026-11-02", {"up": 12.0, "down": 6.0, "flat": 10.5})])  # fmt: skip
    now = pd.Series({"up": 15.0, "down": 5.0, "flat": 10.0, "back": 4.0, "fresh": 3.0})
    m = classify(now, previous, change=0.25)
    assert m.loc["up", "momentum"] == "rising"  # baseline 11
    assert m.loc["down", "momentum"] == "falling"  # baseline 8
    assert m.loc["flat", "momentum"] == "steady"
    assert m.loc["back", "momentum"] == "rising"  # absent from the last run: baseline (5 + 0) / 2 = 2.5
    assert m.loc["fresh", "momentum"] == "new" and pd.isna(m.loc["fresh", "previous_score"])
    assert m.loc["up", "delta"] == 3.0 and m.loc["up", "previous_score"] == 12.0
    assert m.loc["back", "delta"] == 4.0  # absent from the last run: the whole score is the change
    assert set(m["previous_dt"]) == {"2026-11-02"}
    first = classify(now, previous.iloc[0:0], 0.25)
    assert set(first["momentum"]) == {"new"} and first["previous_dt"].isna().all()


def test_previous_runs_reads_earlier_dates_and_skips_corrupt_ones(tmp_path):
    lake = LocalLake(tmp_path)
    for dt in ("2026-11-01", "2026-11-02", "2026-11-04"):
        scores = pd.DataFrame({"score": [1.0], "current_score": [1.0], "upcoming_score": [0.0],
                               "support_posts": [2]}, index=pd.Index(["a"], name="design_id"))  # fmt: skip
        frame = history_frame(dt, "run-x", scores, {"a": "T01"})
        lake.write_bytes(history_key(dt), frame.to_parquet(index=False))
    lake.write_bytes(history_key("2026-11-03"), b"not parquet")
    rows, notes = previous_runs(lake, "2026-11-04", runs=2)
    assert sorted(rows["dt"].unique()) == ["2026-11-01", "2026-11-02"]  # 11-03 corrupt, 11-04 not earlier
    assert len(notes) == 1 and "dt=2026-11-03" in notes[0]
    assert rows.iloc[0]["theme"] == "T01"
    empty, none = previous_runs(lake, "2026-11-01")
    assert empty.empty and none == []


def test_a_source_missing_one_night_moves_neither_scores_nor_momentum():
    from include.trends.momentum import comparable
    from include.trends.scoring import ScoringParams, points_by_source, score_designs, weighted_votes
    from tests.include.trends.test_ranking import match
    from tests.include.trends.test_scoring import manifest_rows

    insta = [match(f"i{i}", "a" if i % 2 else "b", 0.8 + i / 100) for i in range(10)]
    pins = [match(f"p{i}", "a" if i % 3 else "c", 0.9, horizon="upcoming", source="pins") for i in range(9)]
    params = ScoringParams(min_source_posts=5)

    def night(rows, dt):
        votes = weighted_votes(pd.DataFrame(rows), manifest_rows(rows), dt, params)
        return score_designs(votes), points_by_source(votes), {r["post_source"] for r in rows}

    s1, by1, present1 = night(insta + pins, "2026-11-01")
    s2, by2, present2 = night(insta, "2026-11-01")  # the same night's posts, pins down
    # Points per 1,000 posts seen: the other source's points are the same with or without pins.
    assert s2.loc["b", "score"] == s1.loc["b", "score"]
    assert by2["a"]["insta"] == by1["a"]["insta"] and s2.loc["a", "score"] < s1.loc["a", "score"]
    previous = history_frame("2026-11-01", "r1", s1, {}, by1, present1)
    naive = classify(s2["score"], previous)
    assert naive.loc["a", "momentum"] == "falling"  # what the whole score would say
    now, then, note = comparable(s2["score"], previous, by2, present2)
    m = classify(now, then)
    assert set(m["momentum"]) == {"steady"} and (m["delta"] == 0).all()
    assert "pins" in note and "left out" in note
    same, rows, none = comparable(s1["score"], previous, by1, present1)  # nothing missing: whole scores
    assert none is None and same.equals(s1["score"]) and rows is previous
