from __future__ import annotations

import json

import pandas as pd

from include.trends.ranking import TABLE_COLUMNS, rank_designs


def match(post, design, sim, rank=0, horizon="current", source="insta"):
    return {
        "post_sha256": post, "post_source": source, "horizon": horizon, "post_url": f"https://p/{post}",
        "post_image_key": f"images/full/{post}.jpg", "likes": 3, "posted_at": "2026-11-01T00:00:00",
        "neighbour_rank": rank, "design_sha256": design, "similarity": sim, "product_id": f"sku-{design}",
        "portal": "demo", "title": f"T {design}", "brand": "B", "price": 10.0, "currency": "GBP",
        "product_url": f"https://shop/{design}", "product_image_key": f"images/full/{design}.jpg",
    }  # fmt: skip


def frame(rows):
    return pd.DataFrame(rows)


def test_table_has_the_contract_columns_and_evidence():
    rows = [match("p1", "a", 0.9), match("p2", "a", 0.8), match("p3", "a", 0.7, horizon="upcoming", source="pins"),
            match("p4", "b", 0.95), match("p5", "c", 0.3)]  # fmt: skip
    table = rank_designs(frame(rows), "2026-11-01", threshold=0.5, min_source_posts=1, run_id="run-x")
    assert list(table.columns) == TABLE_COLUMNS
    assert list(table.design_id) == ["a", "b"]  # c is below the threshold
    top = table.iloc[0]
    assert top["rank"] == 1 and top.support_posts == 3 and top.upcoming_score > top.current_score > 0
    assert top.horizon == "upcoming" and top.run_id == "run-x" and top.momentum == "new"
    evidence = json.loads(top.evidence)
    assert [e["post_url"] for e in evidence][:2] == ["https://p/p3", "https://p/p1"]  # most points first
    offers = json.loads(top.offers)
    assert offers == [{"currency": "GBP", "portal": "demo", "price": 10.0, "product_id": "sku-a",
                       "url": "https://shop/a"}]  # fmt: skip


def test_ties_are_broken_by_design_id_and_reruns_identical():
    rows = [match("p1", "z", 0.8), match("p2", "y", 0.8), match("p3", "x", 0.8)]
    one = rank_designs(frame(rows), "2026-11-01", 0.5, 0.0)
    two = rank_designs(frame(list(reversed(rows))), "2026-11-01", 0.5, 0.0)
    assert list(one.design_id) == ["x", "y", "z"]
    pd.testing.assert_frame_equal(one, two)


def test_top_n_and_empty_input():
    rows = [match(f"p{i}", f"d{i}", 0.6 + i / 100) for i in range(10)]
    assert len(rank_designs(frame(rows), "2026-11-01", 0.5, 0.0, top_n=3)) == 3
    empty = rank_designs(pd.DataFrame(columns=list(match("p", "d", 1).keys())), "2026-11-01")
    assert empty.empty and list(empty.columns) == TABLE_COLUMNS


def test_editorial_listings_are_flagged_as_looks_not_products():
    from include.trends.designs import meta_from_matches
    from include.trends.ranking import build_table
    from include.trends.scoring import ScoringParams, score_designs, weighted_votes

    rows = [match("p1", "a", 0.9), {**match("p2", "b", 0.85), "portal": "vogue_uk", "price": None, "currency": None}]
    votes = weighted_votes(frame(rows), None, "2026-11-01", ScoringParams(threshold=0.5, min_source_posts=1))
    table = build_table(score_designs(votes), votes, meta_from_matches(frame(rows)), {}, "2026-11-01", "run-x",
                        editorial={"vogue_uk"})  # fmt: skip
    assert list(table.columns) == TABLE_COLUMNS
    assert dict(zip(table.design_id, table.editorial, strict=True)) == {"a": False, "b": True}
    assert table.set_index("design_id").loc["b", "price"] != table.set_index("design_id").loc["b", "price"]  # NaN
