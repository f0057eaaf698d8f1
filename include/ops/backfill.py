"""What a manual rerun or backfill does: re-crawl only the sources that can replay a past date, replay the rest.

Most sources cannot serve the past: Instagram ``recent_media`` is the last 24 hours, Pinterest search has no
date filter, a retail page shows today's prices. Each source says so in ``include/core/sources.yaml``
(``replayable: false|true``). :func:`backfill_plan` asks for a crawl of a past date only from replayable
sources; every other source's stored batch of that date is replayed by :func:`include.ops.replay.replay_date`
(validation, embedding, ranking, publishing), and a source with no stored batch for the date is listed as
missing, never crawled for today's content under an old date.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

MAX_DATES = 92  # one quarter per request: a typo in a year must not queue thousands of crawls


def backfill_dates(start: str, end: str | None) -> list[str]:
    """The dates ``start``..``end`` (inclusive; ``end`` defaults to ``start``).

    Raises:
        ValueError: ``end`` before ``start``, a malformed date, or more than ``MAX_DATES`` dates.
    """
    first = date.fromisoformat(str(start)[:10])
    last = date.fromisoformat(str(end)[:10]) if end else first
    if last < first:
        raise ValueError(f"end {last} is before start {first}")
    days = (last - first).days + 1
    if days > MAX_DATES:
        raise ValueError(f"{days} dates requested; at most {MAX_DATES} per backfill")
    return [(first + timedelta(days=i)).isoformat() for i in range(days)]


def chosen_sources(sources: list[str] | None, known: list[str]) -> list[str]:
    """The requested sources (default or empty: every enabled source in ``known``).

    Raises:
        ValueError: a source that is unknown or disabled.
    """
    chosen = list(sources or known)
    unknown = sorted(set(chosen) - set(known))
    if unknown:
        raise ValueError(f"unknown or disabled sources {unknown}; known: {sorted(known)}")
    return chosen


def backfill_plan(
    start: str, end: str | None, sources: list[str] | None, known: list[str], replayable: Iterable[str] | None = None
) -> list[dict[str, Any]]:
    """``TriggerDagRunOperator`` kwargs for every (replayable source, date) of ``start``..``end`` (inclusive).

    Args:
        start: First date ``YYYY-MM-DD``.
        end: Last date (default: ``start``).
        sources: Source names (default or empty: every enabled source in ``known``).
        known: Enabled source names of the registry.
        replayable: The sources that can serve a past date (``replayable: true``); None: every source in
            ``known`` (a caller that has checked them itself).

    Raises:
        ValueError: unknown sources, ``end`` before ``start``, or more than ``MAX_DATES`` dates.
    """
    dates = backfill_dates(start, end)
    chosen = chosen_sources(sources, known)
    can = set(known if replayable is None else replayable)
    return [{"trigger_dag_id": f"crawl_{s}", "conf": {"date": d}} for d in dates for s in chosen if s in can]


def replay_plan(
    start: str, end: str | None, sources: list[str] | None, known: list[str], replayable: Iterable[str]
) -> list[dict[str, Any]]:
    """Per date, the sources whose stored batches are replayed (every chosen source that is not replayable).

    Returns:
        ``[{"dt": date, "sources": [...]}]`` for :func:`include.ops.replay.replay_date`.
    """
    dates = backfill_dates(start, end)
    live = [s for s in chosen_sources(sources, known) if s not in set(replayable)]
    return [{"dt": d, "sources": live} for d in dates]
