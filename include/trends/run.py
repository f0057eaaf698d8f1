"""One trend run: matches of a date → scores, near-duplicate designs, momentum, themes, colours, trend forecasts →
published report.

``include.ops.stages.rank_and_publish`` calls :func:`run_trends`; everything it reads is recorded in the manifest.
"""

from __future__ import annotations

import io
import logging
from functools import cache
from typing import Any

import pandas as pd

from include.core.hashing import sha256_hex
from include.core.lake import Lake
from include.core.settings import Settings

log = logging.getLogger(__name__)


class RankError(RuntimeError):
    """The run cannot rank (no social posts, empty catalog); nothing was published."""


def social_notes(lake: Lake, dt: str) -> tuple[list[dict], list[str]]:
    """The date's validated batches (prefix, rows, hash of their images) and a note per social source that is down.

    A social source is *down* when it delivered a batch on an earlier date but has no validated batch for
    ``dt`` (its crawl failed, came back empty or failed validation); sources never crawled into this lake
    (say, real ones without credentials) are not reported.
    """
    import re

    from include.core.layout import MANIFEST
    from include.quality.batches import batch_prefixes, is_validated

    batches, present = [], set()
    for kind in ("portal", "social"):
        for prefix in batch_prefixes(lake, kind, dt):
            if is_validated(lake, prefix):
                images = pd.read_parquet(io.BytesIO(lake.read_bytes(prefix + MANIFEST)), columns=["sha256"])["sha256"]
                batches.append({"prefix": prefix, "rows": len(images),  # content, not crawl times
                                "images_sha256": sha256_hex("\n".join(sorted(images)).encode())})  # fmt: skip
                present.add(prefix.split("/source=")[1].split("/")[0])
    earlier = {
        m.group(1)
        for k in lake.list("batches/kind=social/")
        if (m := re.match(r"batches/kind=social/source=([^/]+)/dt=([0-9-]+)/", k)) and m.group(2) < dt
    }
    notes = [
        f"social source {name} has no validated batch for {dt} (down, empty or failed validation); "
        "scores come from the other sources"
        for name in sorted(earlier - present)
    ]
    for note in notes:
        log.warning(note)
    return batches, notes


def _open_index(settings: Settings, collection: str):
    """The searched collection, read only (None when it cannot be opened: grouping falls back)."""
    try:
        from embedding.index import CatalogIndex
        from embedding.service import connect

        return CatalogIndex(settings.resolved_milvus_uri(), collection, 0, connection=connect(settings))
    except Exception as exc:
        log.warning("catalog index unavailable for near-duplicate grouping: %s", exc)
        return None


def readiness_notes(readiness: dict[str, Any] | None) -> list[str]:
    """Notes naming the sources that had not finished when the date was ranked (the cut-off had passed)."""
    if not readiness:
        return []
    notes = [f"source {n} was late: nothing from it for {readiness['dt']} when the cut-off "
             f"({readiness['cutoff_at']}) passed; ranked without it" for n in readiness.get("late", [])]  # fmt: skip
    notes += [f"portal {n}: validated but not yet in the catalog index at the cut-off"
              for n in readiness.get("unindexed", [])]  # fmt: skip
    for note in notes:
        log.warning(note)
    return notes


def run_trends(dt: str, lake: Lake, settings: Settings, readiness: dict[str, Any] | None = None) -> dict[str, Any]:
    """Match, score and publish one date (see module docstring); returns the publish result and counts."""
    from embedding.index import CatalogIndexError
    from embedding.lock import is_lite
    from embedding.matching import EmptyCatalog, NoSocialPosts, match_social
    from include.core.layout import design_registry_key, theme_registry_key
    from include.core.sources import load_registry
    from include.quality.batches import validated_manifest
    from include.reports.html import render_report
    from include.reports.publishing import publish_report, run_id_for
    from include.trends.categories import category_of
    from include.trends.colours import dominant_colours
    from include.trends.designs import build_catalog, latest_portal_batches, portal_offers
    from include.trends.forecast import ForecastParams, forecast_lake
    from include.trends.momentum import classify, comparable, history_frame, previous_runs
    from include.trends.money import unknown_currencies
    from include.trends.ranking import build_table
    from include.trends.registry import assign_ids, read_design_registry
    from include.trends.scoring import (
        ScoringParams,
        points_by_source,
        posts_seen,
        score_designs,
        source_summary,
        weighted_votes,
    )
    from include.trends.themes import build_themes, read_registry, stable_ids

    batches, notes = social_notes(lake, dt)
    notes = readiness_notes(readiness) + notes
    try:
        matched = match_social(dt, lake, settings)
    except (NoSocialPosts, EmptyCatalog, CatalogIndexError) as exc:
        raise RankError(f"{exc}; nothing published, latest.json unchanged") from exc
    model_version = matched.get("model_version") or f"imagenet-{settings.model_name}"
    collection = matched.get("collection") or settings.collection
    matches_bytes = lake.read_bytes(matched["matches"])
    matches = pd.read_parquet(io.BytesIO(matches_bytes))
    posts = validated_manifest(lake, "social", dt)
    registry_sources = load_registry().sources
    params = ScoringParams.from_settings(settings, {s.name: s.weight for s in registry_sources})
    present = {b["prefix"].split("/source=")[1].split("/")[0] for b in batches if "kind=social/" in b["prefix"]}

    candidates = weighted_votes(matches, posts, dt, params)
    index = _open_index(settings, collection)
    try:
        catalog = build_catalog(candidates["design_sha256"].unique().tolist(), matches, portal_offers(lake, dt),
                                index, settings.near_duplicate_similarity)  # fmt: skip
    finally:
        if index is not None:
            index.connection.close()
    design_registry, design_notes = read_design_registry(lake, dt)
    notes += [f"design ids: {n}" for n in design_notes]
    catalog, design_registry, design_stats = assign_ids(catalog, design_registry, dt,
                                                        settings.near_duplicate_similarity)  # fmt: skip
    votes = weighted_votes(matches, posts, dt, params, catalog.groups)
    scores = score_designs(votes)
    previous, history_notes = previous_runs(lake, dt, settings.momentum_runs)
    notes += [f"momentum baseline: {n}" for n in history_notes]
    by_source = points_by_source(votes)
    now_scores, then, comparable_note = comparable(scores["score"], previous, by_source, present)
    notes += [comparable_note] if comparable_note else []
    titles = {d: str(catalog.meta.get(d, {}).get("title") or "") for d in scores.index}
    themes, assignment, theme_stats = build_themes(
        catalog.vectors, scores, votes, titles, then, dt, settings.theme_distance, settings.min_theme_posts,
        settings.momentum_change, now=now_scores,
    )  # fmt: skip
    registry, registry_notes = read_registry(lake, dt)
    notes += [f"theme ids: {n}" for n in registry_notes]
    themes, assignment, registry, theme_stats["ids"] = stable_ids(themes, assignment, catalog.vectors, registry, dt)
    momentum = classify(now_scores, then, settings.momentum_change)
    inputs = {
        "batches": batches,
        "catalog_batches": latest_portal_batches(lake, dt),  # the listings the offers come from
        "matches": {"key": matched["matches"], "sha256": sha256_hex(matches_bytes), "posts": matched["posts"]},
        "model_version": model_version, "pretrained": settings.pretrained,
        "index": {"collection": collection, "uri_kind": "lite" if is_lite(settings.resolved_milvus_uri())
                  else "server", "near_duplicates": catalog.method},
        "params": {**params.as_dict(), "top_k": settings.top_k, "top_n": settings.report_top_n,
                   "near_duplicate_similarity": settings.near_duplicate_similarity,
                   "momentum_change": settings.momentum_change, "momentum_runs": settings.momentum_runs,
                   "min_support_posts": settings.min_support_posts, "theme_distance": settings.theme_distance,
                   "min_theme_posts": settings.min_theme_posts},
        "history": {"dates": sorted(previous["dt"].unique().tolist()),
                    "sha256": sha256_hex(previous.to_csv(index=False).encode())},
        "sources": source_summary(votes, posts_seen(matches, posts)), "themes": theme_stats,
        "designs": design_stats, "notes": notes,
        **({"readiness": {k: readiness[k] for k in ("reason", "in", "skipped", "failed", "late", "cutoff_at")}}
           if readiness else {}),
    }  # fmt: skip

    @cache
    def colours(key: str | None) -> str:
        return ",".join(n for n, _ in dominant_colours(lake.read_bytes(key))) if key and lake.exists(key) else ""

    # Trend series read every scored design's theme, catalog category and colours from the history.
    history = history_frame(dt, "", scores, assignment, by_source, present)
    meta = [catalog.meta.get(d, {}) for d in history["design_id"]]
    history["category"] = [category_of(m.get("title"), m.get("category")) for m in meta]
    history["colours"] = [colours(m.get("image_key")) for m in meta]
    labels = {("theme", t): f"{t} · {n}" for t, n in zip(registry["theme"], registry["name"], strict=True)}
    forecasts, forecast_counts, forecast_notes = forecast_lake(
        lake, dt, history, ForecastParams(settings.forecast_weeks, settings.trend_threshold), labels
    )  # fmt: skip
    inputs["forecasts"] = forecast_counts
    notes += [f"trend series: {n}" for n in forecast_notes]  # the list inputs["notes"] holds
    ranked = scores[scores["support_posts"] >= settings.min_support_posts]  # one post is not a trend
    notes += [f"no rate from {c} to {settings.report_currency} in FTI_CURRENCY_RATES: those prices are shown as "
              "listed (original_price) and sort last" for c in
              unknown_currencies(catalog.offers, settings.report_currency, settings.currency_rates)]  # fmt: skip
    table = build_table(
        ranked, votes, catalog.meta, catalog.offers, dt, "", momentum=momentum, themes=assignment,
        colours=colours, model_version=model_version, collection=collection, uri=lake.uri,
        top_n=settings.report_top_n, editorial={s.name for s in registry_sources if s.editorial},
        currency=(settings.report_currency, settings.currency_rates),
    )  # fmt: skip
    # The run id: the inputs and the tables themselves (a recrawl with the same content keeps it).
    run_id = run_id_for({**inputs, "tables": [sha256_hex(table.to_csv(index=False).encode()),
                                              sha256_hex(themes.to_csv(index=False).encode()),
                                              sha256_hex(forecasts.to_csv(index=False).encode())]})  # fmt: skip
    table["run_id"], themes["run_id"] = run_id, run_id
    top = table["design_id"].head(8).tolist()
    current = scores.reset_index()[["design_id", "score"]].assign(dt=dt)
    parts = [f[f["design_id"].isin(top)][["dt", "design_id", "score"]] for f in (previous, current) if not f.empty]
    trend = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["dt", "design_id", "score"])
    trend = trend.assign(order=trend["design_id"].map({d: i for i, d in enumerate(top)})).sort_values(["order", "dt"])
    page = render_report(lake, table, dt, run_id, themes, trend[["dt", "design_id", "score"]], notes,
                         forecasts=forecasts)  # fmt: skip
    published = publish_report(lake, table, dt, inputs, themes=themes, run_id=run_id, report_html=page,
                               history=history, forecasts=forecasts,
                               extra_history={theme_registry_key(dt): registry,
                                              design_registry_key(dt): design_registry})  # fmt: skip
    return {**published, "posts": matched["posts"], "designs": len(table), "notes": notes}
