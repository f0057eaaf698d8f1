"""The backfill plan behind ``fti_backfill``: one crawl run per (source, date), with guards."""

from __future__ import annotations

import pytest

from include.ops.backfill import MAX_DATES, backfill_plan

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
