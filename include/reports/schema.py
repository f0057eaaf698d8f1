"""The published tables' contract: column names, types and meaning, versioned.

``SCHEMA_VERSION`` is written into every ``manifest.json`` and ``latest.json``. Adding a column bumps the minor
reading of the docs only; renaming, removing or changing the meaning of a column bumps ``SCHEMA_VERSION``.
docs/reports.md renders these dictionaries (``python -m include.reports.schema`` prints the tables).
"""

from __future__ import annotations

SCHEMA_VERSION = 3  # 3: `offers` and `evidence` are Parquet lists of structs (JSON text in CSV / JSON files)

# The fields of the nested columns, as Parquet struct fields (name -> Arrow type name).
OFFER_FIELDS = {"portal": "string", "product_id": "string", "price": "float64", "currency": "string",
                "original_price": "float64", "original_currency": "string", "url": "string"}  # fmt: skip
EVIDENCE_FIELDS = {"post_url": "string", "image_key": "string", "image_uri": "string", "source": "string",
                   "similarity": "float64", "points": "float64"}  # fmt: skip
NESTED = {"offers": OFFER_FIELDS, "evidence": EVIDENCE_FIELDS}

# name -> (type, meaning)
WINNING_DESIGNS: dict[str, tuple[str, str]] = {
    "rank": ("int64", "1 = strongest design of the run"),
    "design_id": ("string", "id the design was first given (a catalog image sha256); kept across runs and "
                  "re-crawls by the design registry (history/designs/)"),
    "product_id": ("string", "product id of the design's own listing"),
    "portal": ("string", "portal source of that listing"),
    "title": ("string", "product title"),
    "brand": ("string", "brand"),
    "price": ("float64", "price of that listing in `currency` (converted with `FTI_CURRENCY_RATES`; null: no rate)"),
    "currency": ("string", "ISO currency of `price`: the run's report currency (`FTI_REPORT_CURRENCY`)"),
    "original_price": ("float64", "the listing's price as the portal showed it"),
    "original_currency": ("string", "the listing's own currency"),
    "product_url": ("string", "product page of that listing"),
    "editorial": ("bool", "the listing is a look from an editorial source (magazine, blog), not a product for sale: "
                  "`price` stays empty"),
    "offers": ("list<struct>", "all listings (JSON text in the CSV / JSON files): [{portal, product_id, price, "
               "currency, original_price, original_currency, url}], cheapest first in the report currency"),
    "offer_count": ("int64", "number of offers"),
    "image_key": ("string", "lake key of the catalog image"),
    "image_uri": ("string", "absolute URI (path or s3://) of the catalog image"),
    "score": ("float64", "current_score + upcoming_score (points: weighted votes per 1,000 posts each source showed)"),
    "current_score": ("float64", "points from street-style (`current`) sources"),
    "upcoming_score": ("float64", "points from fashion-week (`upcoming`) sources"),
    "horizon": ("string", "`current` or `upcoming`, whichever score is larger"),
    "support_posts": ("int64", "social posts that voted for the design"),
    "mean_similarity": ("float64", "mean cosine similarity of those posts"),
    "evidence": ("list<struct>", "best posts (JSON text in the CSV / JSON files): [{post_url, image_key, image_uri, "
                  "source, similarity, points}]"),
    "momentum": ("string", "new | rising | steady | falling against the previous run"),
    "delta": ("float64", "score minus the previous run's score (the score itself when new)"),
    "previous_score": ("float64", "score in the previous run (null when new)"),
    "theme": ("string", "theme id in themes.parquet (null: in no theme)"),
    "colours": ("string", "dominant garment colours, comma-separated named colours, most common first"),
    "model_version": ("string", "embedding model version the matches were made with"),
    "index_collection": ("string", "Milvus collection searched"),
    "run_id": ("string", "id of the published run (reports/dt=<dt>/<run_id>/)"),
    "dt": ("string", "logical date of the run (YYYY-MM-DD)"),
}  # fmt: skip

THEMES: dict[str, tuple[str, str]] = {
    "theme": ("string", "T01, T02 ...: stable across runs (matched to earlier themes by members and centroid)"),
    "name": ("string", "most frequent words of its designs' titles"),
    "posts": ("int64", "matched social posts in the theme (its size)"),
    "designs": ("int64", "designs in the theme"),
    "score": ("float64", "sum of its designs' scores"),
    "current_score": ("float64", "sum of its designs' current scores"),
    "upcoming_score": ("float64", "sum of its designs' upcoming scores"),
    "previous_score": ("float64", "its designs' scores in the previous run (null: no previous run)"),
    "growth": ("float64", "(score - previous_score) / previous_score (null when new)"),
    "momentum": ("string", "new | rising | steady | falling"),
    "design_ids": ("string (JSON)", "its designs, best first (up to 20)"),
    "exemplars": ("string (JSON)", "exemplar posts: [{post_url, image_key, source, similarity}]"),
    "dt": ("string", "logical date"),
    "run_id": ("string", "id of the published run"),
}

FORECASTS: dict[str, tuple[str, str]] = {
    "series_id": ("string", "`<kind>:<key>`, e.g. `theme:T03`, `category:dresses`, `colour:navy`"),
    "kind": ("string", "`theme`, `category` or `colour`"),
    "key": ("string", "theme id, category or colour name"),
    "label": ("string", "readable name (a theme's id and words)"),
    "horizon": ("string", "`current` (street-style sources) or `upcoming` (fashion-week sources, the leading signal)"),
    "week": ("string", "Monday of the week (YYYY-MM-DD)"),
    "actual": ("float64", "observed share of the horizon's points that week (null in forecast weeks)"),
    "forecast": ("float64", "forecast share (null in history weeks)"),
    "lower": ("float64", "lower bound of the 80 % prediction interval"),
    "upper": ("float64", "upper bound of the 80 % prediction interval"),
    "class": ("string", "emerging | rising | flat | declining (year-over-year rule, threshold 0.5) | "
              "insufficient-history"),
    "change": ("float64", "forecast year-over-year change: mean of the forecast / mean of the last 52 weeks - 1"),
    "model": ("string", "`fti` (with the fashion-week signal) or `fti-nosignal`; null when not forecast"),
    "backtest_mase": ("float64", "seasonal MASE of that model on the series' own last weeks (null: too short)"),
    "history_weeks": ("int64", "weeks of unbroken history the forecast read"),
    "reason": ("string", "why a series was not forecast (empty otherwise)"),
    "dt": ("string", "logical date of the run"),
}  # fmt: skip

TABLE_COLUMNS = list(WINNING_DESIGNS)
THEME_COLUMNS = list(THEMES)
FORECAST_COLUMNS = list(FORECASTS)


def nested(value) -> list[dict]:
    """The rows of a nested column whatever the file it was read from: a list of structs (Parquet, read by
    pandas as an array of dicts) or JSON text (CSV, JSON, tables in memory)."""
    import json

    if value is None or (isinstance(value, float) and value != value):
        return []
    if isinstance(value, str):
        return json.loads(value or "[]")
    return [dict(v) for v in value]


def markdown(columns: dict[str, tuple[str, str]]) -> str:
    """A markdown table of a column dictionary."""
    rows = ["| column | type | meaning |", "| --- | --- | --- |"]
    rows += [f"| `{name}` | {kind} | {meaning} |" for name, (kind, meaning) in columns.items()]
    return "\n".join(rows)


if __name__ == "__main__":
    print(f"winning_designs (schema {SCHEMA_VERSION})\n\n{markdown(WINNING_DESIGNS)}\n\nthemes\n\n{markdown(THEMES)}")
    print(f"\nforecasts\n\n{markdown(FORECASTS)}")
