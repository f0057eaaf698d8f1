"""A crawl that stops early says why, in one plain line: the bot wall, the API's rate limit.

:func:`record_stop` is what the circuit breaker (:mod:`crawlers.breaker`) and the API spiders call when they stop
a source: the reason goes to ``fti/stopped`` (``stopped`` in the batch health, next to ``max-items`` and
``max-bytes``), the facts to ``fti/stop_detail``. When nothing was scraped yet the source counts as skipped
(``fti/source_skipped``), so no empty batch is written and validation reports the stop instead of an empty
table. At the end of the crawl the manifest pipeline turns the facts into the health's ``status`` line
(:func:`status_line`), which the crawl task logs and the validate task raises or skips with::

    asos: blocked by the site after 40 requests; nothing stored; last good batch 2026-11-29
"""

from __future__ import annotations

import re
from typing import Any

from include.core.lake import Lake
from include.core.layout import MANIFEST

PLAIN_STOPS = ("blocked-by-site", "rate-limited")


def record_stop(crawler, reason: str, what: str, **facts: Any) -> None:
    """Record that ``crawler``'s source is being stopped for ``reason``; ``what`` says it for people.

    Args:
        crawler: The running crawler (its stats hold the record).
        reason: ``blocked-by-site`` or ``rate-limited``.
        what: The cause in words, e.g. ``blocked by the site`` or
            ``rate-limited by the Instagram API (error 4: Application request limit reached)``.
        **facts: Numbers behind it (``requests``, ``refusals``, ``status``, ``code``, ``regain_minutes`` …).
    """
    stats = crawler.stats
    if stats.get_value("fti/stopped") in PLAIN_STOPS:
        return  # the first stop wins
    stats.set_value("fti/stopped", reason)
    stats.set_value("fti/stop_detail", {"reason": reason, "what": what, **facts})
    if not stats.get_value("item_scraped_count"):
        stats.set_value("fti/source_skipped", reason)


def last_good_batch(lake: Lake, kind: str, source: str) -> str | None:
    """The newest date of ``source`` with a batch that passed validation, or ``None``."""
    from include.quality.batches import is_validated

    pattern = re.compile(rf"batches/kind={re.escape(kind)}/source={re.escape(source)}/dt=([0-9-]+)/{MANIFEST}$")
    dates = sorted({m[1] for key in lake.list(f"batches/kind={kind}/source={source}/") if (m := pattern.match(key))})
    for dt in reversed(dates):
        if is_validated(lake, f"batches/kind={kind}/source={source}/dt={dt}/"):
            return dt
    return None


def status_line(health: dict[str, Any], last_good: str | None) -> str | None:
    """The one-line account of a stopped crawl (``None`` when it was not stopped by a bot wall or rate limit)."""
    detail = health.get("stop_detail") or {}
    if detail.get("reason") not in PLAIN_STOPS:
        return None
    requests = detail.get("requests")
    parts = [f"{health.get('source')}: {detail.get('what')}" + (f" after {requests} requests" if requests else "")]
    if health.get("items"):
        parts.append(f"{health['items']} images stored")
    elif health.get("kept_previous_batch"):
        parts.append("nothing stored; this date's earlier batch kept")
    else:
        parts.append("nothing stored")
    parts.append(f"last good batch {last_good or 'none'}")
    return "; ".join(parts)
