"""Prices in one currency per table, converted with the configured rates, the original kept."""

from __future__ import annotations

import json

import pandas as pd

from include.trends.money import convert, unknown_currencies
from include.trends.ranking import build_table
from include.trends.scoring import ScoringParams, score_designs, weighted_votes
from tests.include.trends.test_ranking import match

RATES = {"EUR": 0.85, "usd": 0.8}


def test_the_table_and_its_offers_are_in_the_report_currency_with_the_original_kept():
    rows = [match("p1", "a", 0.9), match("p2", "a", 0.85), match("p3", "b", 0.9), match("p4", "b", 0.8)]
    votes = weighted_votes(pd.DataFrame(rows), None, "2026-11-01", ScoringParams(min_source_posts=1))
    meta = {"a": {"product_id": "A", "portal": "fr", "price": 100.0, "currency": "EUR"},
            "b": {"product_id": "B", "portal": "jp", "price": 9000.0, "currency": "JPY"}}  # fmt: skip
    offers = {
        "a": [{"portal": "fr", "product_id": "A", "price": 100.0, "currency": "EUR", "url": "u1"},
              {"portal": "us", "product_id": "A2", "price": 100.0, "currency": "USD", "url": "u2"},
              {"portal": "uk", "product_id": "A3", "price": 84.0, "currency": "GBP", "url": "u3"}],
        "b": [{"portal": "jp", "product_id": "B", "price": 9000.0, "currency": "JPY", "url": "u4"}],
    }  # fmt: skip
    table = build_table(score_designs(votes), votes, meta, offers, "2026-11-01", "r", currency=("GBP", RATES))
    a, b = (table.set_index("design_id").loc[d] for d in ("a", "b"))
    assert (a.price, a.currency, a.original_price, a.original_currency) == (85.0, "GBP", 100.0, "EUR")
    assert pd.isna(b.price) and b.currency is None and (b.original_price, b.original_currency) == (9000.0, "JPY")
    listed = json.loads(a.offers)  # cheapest first in GBP: £80 (was $100), £84, £85 (was €100)
    assert [(o["portal"], o["price"], o["original_price"], o["original_currency"]) for o in listed] == [
        ("us", 80.0, 100.0, "USD"), ("uk", 84.0, 84.0, "GBP"), ("fr", 85.0, 100.0, "EUR")]  # fmt: skip
    assert {o["currency"] for o in listed} == {"GBP"}
    assert unknown_currencies(offers, "GBP", RATES) == ["JPY"]
    plain = build_table(score_designs(votes), votes, meta, offers, "2026-11-01", "r")  # no conversion asked
    assert plain.set_index("design_id").loc["a", "price"] == 100.0 and json.loads(plain.offers[0]) != listed
    assert convert(None, "EUR", "GBP", RATES) is None and convert(10.0, "gbp", "GBP", {}) == 10.0
