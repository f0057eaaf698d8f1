"""Which crawl runs a manual rerun or backfill asks for: one per (source, date), plain data for ``fti_backfill``."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

MAX_DATES = 92  # one quarter per request: a typo in a year must not queue thousands of crawls


def backfill_plan(start: str, end: str | None, sources: list[str] | None, known: list[str]) -> list[dict[str, Any]]:
    """``TriggerDagRunOperator`` kwargs for every (source, date) of ``start``..``end`` (inclusive).

    Args:
        start: First date ``YYYY-MM-DD``.
        end: Last date (default: ``start``).
        sources: Source names (default or empty: every enabled source in ``known``).
        known: Enabled source names of the registry.

    Raises:
        ValueError: unknown sources, ``end`` before ``start``, or more than ``MAX_DATES`` dates.
    """
    first = date.fromisoformat(str(start)[:10])
    last = date.fromisoformat(str(end)[:10]) if end else first
    if last < first:
        raise ValueError(f"end {last} is before start {first}")
    days = (last - first).days + 1
    if days > MAX_DATES:
        raise ValueError(f"{days} dates requested; at most {MAX_DATES} per backfill")
    chosen = list(sources or known)
    unknown = sorted(set(chosen) - set(known))
    if unknown:
        raise ValueError(f"unknown or disabled sources {unknown}; known: {sorted(known)}")
    dates = [(first + timedelta(days=i)).isoformat() for i in range(days)]
    return [{"trigger_dag_id": f"crawl_{s}", "conf": {"date": d}} for d in dates for s in chosen]
