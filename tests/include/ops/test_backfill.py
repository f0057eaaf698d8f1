"""The backfill plan behind ``fti_backfill``: one crawl run per (source, date), with guards."""

from __future__ import annotations

import pytest

from include.ops.backfill import MAX_DATES, backfill_plan, replay_plan

KNOWN = ["shop_a", "insta"]


def test_one_run_per_source_and_date_with_the_date_param():
    runs = backfill_plan("2026-11-01", "2026-11-02", [], KNOWN)
    assert runs == [
        {"trigger_dag_id": "crawl_shop_a", "conf": {"date": "2026-11-01"}},
        {"trigger_dag_id": "crawl_insta", "conf": {"date": "2026-11-01"}},
        {"trigger_dag_id": "crawl_shop_a", "conf": {"date": "2026-11-02"}},
        {"trigger_dag_id": "crawl_insta", "conf": {"date": "2026-11-02"}},
    ]
    assert backfill_plan("2026-11-05", None, ["insta"], KNOWN) == [
        {"trigger_dag_id": "crawl_insta", "conf": {"date": "2026-11-05"}}
    ]


@pytest.mark.parametrize(
    ("start", "end", "sources", "error"),
    [
        ("2026-11-03", "2026-11-01", [], "before start"),
        ("2026-01-01", "2026-12-31", [], f"at most {MAX_DATES}"),
        ("2026-11-01", None, ["nope"], "unknown or disabled sources"),
        ("2026-13-01", None, [], "month must be in 1..12"),
    ],
)
def test_bad_requests_are_refused_before_anything_is_triggered(start, end, sources, error):
    with pytest.raises(ValueError, match=error):
        backfill_plan(start, end, sources, KNOWN)


def test_only_replayable_sources_are_crawled_the_others_are_replayed():
    runs = backfill_plan("2026-11-01", "2026-11-02", [], KNOWN, replayable=["shop_a"])
    assert [r["trigger_dag_id"] for r in runs] == ["crawl_shop_a", "crawl_shop_a"]
    assert backfill_plan("2026-11-01", None, ["insta"], KNOWN, replayable=[]) == []
    assert replay_plan("2026-11-01", "2026-11-02", [], KNOWN, ["shop_a"]) == [
        {"dt": "2026-11-01", "sources": ["insta"]},
        {"dt": "2026-11-02", "sources": ["insta"]},
    ]


def test_the_registry_declares_what_can_be_replayed():
    import yaml

    from include.core.settings import get_settings
    from include.core.sources import load_registry

    raw = yaml.safe_load(get_settings().sources_file.read_text())["sources"]
    assert all(isinstance(entry.get("replayable"), bool) for entry in raw)  # every entry says it, none by default
    sources = load_registry().sources
    assert all(s.replayable is False for s in sources if s.spider in ("instagram_hashtag", "pinterest_search"))
    assert all(s.weight == 1.0 for s in sources)
