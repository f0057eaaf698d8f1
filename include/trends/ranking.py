"""The winning-designs table: scored designs joined with their offers, evidence, momentum, theme and colours.

Scoring itself lives in :mod:`include.trends.scoring`; the column contract in :mod:`include.reports.schema`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping

import pandas as pd

from include.reports.schema import TABLE_COLUMNS
from include.trends.scoring import ScoringParams, score_designs, weighted_votes

__all__ = ["TABLE_COLUMNS", "build_table", "rank_designs"]


def _evidence(votes: pd.DataFrame, per_design: int, uri: Callable[[str], str]) -> dict[str, str]:
    out = {}
    for design, group in votes.groupby("design_id", sort=True):
        best = group.sort_values(["points", "similarity", "post_sha256"], ascending=[False, False, True])
        out[design] = json.dumps(
            [
                {"post_url": r.post_url, "image_key": r.post_image_key, "image_uri": uri(r.post_image_key),
                 "source": r.source, "similarity": round(float(r.similarity), 4), "points": round(float(r.points), 4)}
                for r in best.head(per_design).itertuples()
            ],
            sort_keys=True,
        )  # fmt: skip
    return out


def build_table(
    scores: pd.DataFrame, votes: pd.DataFrame, meta: Mapping[str, dict], offers: Mapping[str, list[dict]],
    dt: str, run_id: str, *, momentum: pd.DataFrame | None = None, themes: Mapping[str, str] | None = None,
    colours: Callable[[str | None], str] | None = None, model_version: str = "", collection: str = "",
    uri: Callable[[str], str] = str, top_n: int = 50, evidence_per_design: int = 5,
    editorial: Collection[str] = (), currency: tuple[str, Mapping[str, float]] | None = None,
) -> pd.DataFrame:  # fmt: skip
    """The ranked table (``TABLE_COLUMNS``), best design first; ties broken by design id so reruns are identical.

    Args:
        scores: ``include.trends.scoring.score_designs`` (already ordered).
        votes: ``include.trends.scoring.weighted_votes``.
        meta: Catalog sha256 -> listing metadata (``include.trends.designs.META``).
        offers: Design id -> offers.
        dt: Run date.
        run_id: Published run id.
        momentum: ``include.trends.momentum.classify`` (None: every design is new).
        themes: Design id -> theme id.
        colours: Image key -> comma-separated colour names.
        model_version: Embedding model version.
        collection: Milvus collection searched.
        uri: Lake key -> absolute URI.
        top_n: Rows kept.
        evidence_per_design: Evidence posts kept per design.
        editorial: Names of the editorial sources (``editorial: true`` in the registry): their listings are looks.
        currency: (report currency, rates) to convert every price to (:mod:`include.trends.money`); None keeps
            the listed prices (``original_price`` repeats them).
    """
    if scores.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in TABLE_COLUMNS})
    top = scores.head(top_n).copy()
    ids = list(top.index)
    table = top.reset_index(names="design_id")
    for col in ("product_id", "portal", "title", "brand", "price", "currency", "product_url", "image_key"):
        table[col] = [meta.get(d, {}).get(col) for d in ids]
    table["price"] = pd.to_numeric(table["price"], errors="coerce").astype(float).round(2)
    table["original_price"], table["original_currency"] = table["price"], table["currency"]
    if currency is not None:
        from include.trends.money import convert, convert_offers

        target, rates = currency
        table["price"] = [convert(p, c, target, rates) for p, c in zip(table["price"], table["currency"], strict=True)]
        table["price"] = table["price"].astype(float)
        table["currency"] = [target if p == p else None for p in table["price"]]
        offers = {d: convert_offers(offers.get(d, []), target, rates) for d in ids}
    table["editorial"] = [portal in editorial for portal in table["portal"]]
    table["offers"] = [json.dumps(offers.get(d, []), sort_keys=True) for d in ids]
    table["offer_count"] = [len(offers.get(d, [])) for d in ids]
    table["image_uri"] = [uri(k) if k else None for k in table["image_key"]]
    table["horizon"] = ["upcoming" if u > c else "current" for c, u in zip(table.current_score, table.upcoming_score,
                                                                            strict=True)]  # fmt: skip
    evidence = _evidence(votes[votes["design_id"].isin(ids)], evidence_per_design, uri)
    table["evidence"] = [evidence.get(d, "[]") for d in ids]
    if momentum is None:
        table["momentum"], table["delta"], table["previous_score"] = "new", table["score"], float("nan")
    else:
        m = momentum.reindex(ids)
        table["momentum"] = m["momentum"].fillna("new").to_numpy()
        table["delta"] = m["delta"].astype(float).to_numpy()
        table["previous_score"] = m["previous_score"].astype(float).to_numpy()
    table["theme"] = [(themes or {}).get(d) for d in ids]
    table["colours"] = [colours(k) if colours else "" for k in table["image_key"]]
    table["model_version"], table["index_collection"] = model_version, collection
    table["run_id"], table["dt"] = run_id, dt
    table["rank"] = range(1, len(table) + 1)
    for col in ("product_id", "portal", "title", "brand", "currency", "original_currency", "product_url", "image_key"):
        table[col] = table[col].map(lambda v: None if v is None or v != v else str(v))
    return table[TABLE_COLUMNS].reset_index(drop=True)


def rank_designs(
    matches: pd.DataFrame, dt: str, threshold: float = 0.5, margin: float = 0.0, top_n: int = 50,
    posts: pd.DataFrame | None = None, run_id: str = "", **params,
) -> pd.DataFrame:  # fmt: skip
    """Score match rows directly (no near-duplicate merging, momentum or themes): the table of one run.

    Args:
        matches: Match rows (``embedding.matching.MATCH_COLUMNS``).
        dt: Run date.
        threshold: Minimum similarity of a vote.
        margin: Other neighbours within this of the best one also vote.
        top_n: Rows kept.
        posts: Validated social manifest rows (likes, times, sources); None uses the match rows.
        run_id: Run id written into the table.
        **params: Other :class:`include.trends.scoring.ScoringParams` fields.
    """
    from include.trends.designs import meta_from_matches

    scoring = ScoringParams(threshold=threshold, margin=margin, **params)
    votes = weighted_votes(matches, posts, dt, scoring)
    meta = meta_from_matches(matches) if not matches.empty else {}
    offers = {d: [{"portal": m.get("portal"), "product_id": m.get("product_id"), "price": m.get("price"),
                   "currency": m.get("currency"), "url": m.get("product_url")}] for d, m in meta.items()}  # fmt: skip
    return build_table(score_designs(votes), votes, meta, offers, dt, run_id, top_n=top_n)
