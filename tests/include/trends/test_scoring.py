from __future__ import annotations

import pandas as pd
import pytest

from include.trends.scoring import ScoringParams, recency_weight, score_designs, source_summary, weighted_votes
from tests.include.trends.test_ranking import match

DT = "2026-11-01"


def manifest_rows(rows):
    """Validated social manifest rows for the posts of ``rows`` (what include.quality.batches gives)."""
    seen = {}
    for r in rows:
        seen[r["post_sha256"]] = {
            "sha256": r["post_sha256"], "source": r["post_source"], "horizon": r["horizon"],
            "page_url": r["post_url"], "image_key": r["post_image_key"], "likes": r["likes"],
            "posted_at": r["posted_at"], "caption": "",
        }  # fmt: skip
    return pd.DataFrame(list(seen.values()))


def test_weights_similarity_recency_and_engagement():
    rows = [match("p1", "a", 0.9), match("p2", "b", 0.7)]
    votes = weighted_votes(pd.DataFrame(rows), None, DT, ScoringParams(threshold=0.5, min_source_posts=1))
    by_post = votes.set_index("post_sha256")
    assert by_post.loc["p1", "w_similarity"] == pytest.approx(0.8)
    assert by_post.loc["p2", "w_similarity"] == pytest.approx(0.4)
    # posted at midnight: 24 h before the end of the day, half-life 72 h
    assert by_post.loc["p1", "w_recency"] == pytest.approx(0.5 ** (24 / 72))
    # points: weighted votes per 1,000 posts the source showed (2 posts here)
    weight = by_post.loc["p1", "w_similarity"] * by_post.loc["p1", "w_recency"] * by_post.loc["p1", "w_engagement"]
    assert by_post.loc["p1", "points"] == pytest.approx(weight * 1000 / 2)
    assert by_post.loc["p1", "points"] / by_post.loc["p2", "points"] == pytest.approx(2.0)


def test_recency_halves_every_half_life():
    times = pd.Series(["2026-11-01T23:00:00+00:00", "2026-10-29T23:00:00+00:00", None])
    w = recency_weight(times, DT, 72.0)
    assert w[0] == pytest.approx(0.5 ** (1 / 72)) and w[1] == pytest.approx(0.5 ** (73 / 72))
    assert w[2] == pytest.approx(0.5 ** (24 / 72))  # unknown time: one day old


def test_engagement_from_the_manifest_beats_the_match_rows():
    rows = [match("p1", "a", 0.8), match("p2", "b", 0.8)]
    posts = manifest_rows(rows)
    posts.loc[posts.sha256 == "p1", "likes"] = 10_000
    votes = weighted_votes(pd.DataFrame(rows), posts, DT, ScoringParams(min_source_posts=1)).set_index("post_sha256")
    assert votes.loc["p1", "likes"] == 10_000
    assert votes.loc["p1", "points"] > 2 * votes.loc["p2", "points"]


def test_one_noisy_source_cannot_dominate():
    # 40 spam posts of design "spam" on one source, 20 posts of "real" on another.
    rows = [match(f"s{i}", "spam", 0.9, source="spammy") for i in range(40)]
    rows += [match(f"r{i}", "real", 0.8, source="insta") for i in range(20)]
    votes = weighted_votes(pd.DataFrame(rows), None, DT, ScoringParams(min_source_posts=20))
    scores = score_designs(votes).set_index(score_designs(votes).index)
    per_post = votes.set_index("post_sha256")["weight"]
    # points per 1,000 posts seen: 40 spam posts out of 40 score what one post's weight scores per 1,000
    assert scores.loc["spam", "score"] == pytest.approx(per_post["s0"] * 1000)
    assert scores.loc["real", "score"] == pytest.approx(per_post["r0"] * 1000)
    # a source with few posts is divided by min_source_posts; a source weight scales its points
    few = [match("x1", "x", 0.9, source="tiny"), *rows[40:]]
    weights = ScoringParams(min_source_posts=20, source_weights={"insta": 0.5})
    scored = score_designs(weighted_votes(pd.DataFrame(few), None, DT, weights))
    assert scored.loc["x", "score"] == pytest.approx(per_post["s0"] * 1000 / 20)
    assert scored.loc["real", "score"] == pytest.approx(per_post["r0"] * 1000 * 0.5)
    assert source_summary(votes)["spammy"]["posts"] == 40


def test_current_and_upcoming_scores_follow_the_horizon():
    rows = [match(f"c{i}", "a", 0.9, source="insta") for i in range(3)]
    rows += [match(f"u{i}", "a", 0.9, horizon="upcoming", source="pins") for i in range(1)]
    rows += [match("u9", "b", 0.9, horizon="upcoming", source="pins")]
    votes = weighted_votes(pd.DataFrame(rows), None, DT, ScoringParams(min_source_posts=1))
    scores, one = score_designs(votes), votes["weight"].iloc[0]  # every post weighs the same here
    assert scores.loc["a", "current_score"] == pytest.approx(one * 1000)  # 3 posts of 3 seen
    assert scores.loc["a", "upcoming_score"] == pytest.approx(one * 500) == scores.loc["b", "upcoming_score"]
    assert list(scores.index) == ["a", "b"] and scores.loc["a", "support_posts"] == 4


def test_near_duplicates_share_one_vote_and_margin_splits_it():
    rows = [match("p1", "a", 0.9), match("p1", "a2", 0.89, 1), match("p1", "c", 0.88, 2)]
    params = ScoringParams(margin=0.05, min_source_posts=1)
    votes = weighted_votes(pd.DataFrame(rows), None, DT, params, groups={"a2": "a"})
    assert sorted(votes.design_id) == ["a", "c"]  # a and a2 are one design: the post's best member counts
    assert votes.set_index("design_id").loc["a", "design_sha256"] == "a"
    assert votes["weight"].sum() == pytest.approx(((0.9 - 0.5) / 0.5 + (0.88 - 0.5) / 0.5) / 2 * votes.w_recency[0]
                                                  * votes.w_engagement[0])  # fmt: skip


def test_below_threshold_and_empty():
    rows = [match("p1", "a", 0.4)]
    assert weighted_votes(pd.DataFrame(rows), None, DT, ScoringParams()).empty
    assert score_designs(weighted_votes(pd.DataFrame(columns=list(rows[0])), None, DT, ScoringParams())).empty


def test_a_post_votes_once_per_region_and_once_per_design():
    """Regions mode: a post's top and trousers each vote; two regions matching one design give it one vote."""
    rows = [
        {**match("p1", "top", 0.9), "region": 0}, {**match("p1", "jeans", 0.6, 1), "region": 0},
        {**match("p1", "jeans", 0.8), "region": 1}, {**match("p1", "top", 0.7, 1), "region": 1},
        {**match("p1", "top", 0.85), "region": 2},  # a second region showing the same top
        {**match("p2", "top", 0.75), "region": 0},
    ]  # fmt: skip
    votes = weighted_votes(pd.DataFrame(rows), None, DT, ScoringParams(min_source_posts=1))
    p1 = votes[votes.post_sha256 == "p1"].set_index("design_id")
    assert sorted(p1.index) == ["jeans", "top"]  # each region's best design, each design once
    assert p1.loc["top", "similarity"] == pytest.approx(0.9) and p1.loc["jeans", "similarity"] == pytest.approx(0.8)
    assert p1.loc["top", "w_similarity"] * p1.loc["top", "w_recency"] * p1.loc["top", "w_engagement"] == (
        pytest.approx(p1.loc["top", "weight"])
    )  # a whole vote per region, not a post's vote split between its regions
    scores = score_designs(votes)
    assert scores.loc["top", "support_posts"] == 2 and scores.loc["jeans", "support_posts"] == 1
    whole = weighted_votes(pd.DataFrame(rows).drop(columns="region"), None, DT, ScoringParams(min_source_posts=1))
    assert sorted(whole[whole.post_sha256 == "p1"].design_id) == ["top"]  # the whole photo: one vote, its best
