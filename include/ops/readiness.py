"""Whether a date's inputs are complete enough to rank: read from the lake, never from Asset events.

A date is **ready** when every awaited source has *finished* for it — a validated batch, a batch its crawl
skipped (no credentials, rate-limited), or one that failed (quarantined, blocked by the site) — and the catalog
index holds every validated portal batch of the date; or when the cut-off (``rank_cutoff_hours`` after midnight
UTC of the date) has passed, whatever is still missing. ``rank_trends`` waits on this rule (a sensor in
reschedule mode), then ranks once; the sources still missing at the cut-off are listed as *late* in the run's
notes and manifest.

The awaited sources are ``readiness_sources`` when set, else every enabled source that left anything in the
lake during the ``readiness_lookback_days`` before the date (a source never crawled into this lake, say a real
one without credentials, is not waited for), else, in a new lake, every enabled source.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from include.core.lake import Lake
from include.core.layout import HEALTH, MANIFEST, VALIDATION, batch_prefix, catalog_state_key, quarantine_prefix
from include.quality.batches import is_validated

DONE = ("validated", "skipped", "failed")


def source_state(lake: Lake, kind: str, name: str, dt: str) -> str:
    """``validated``, ``skipped``, ``failed``, ``pending`` (crawled, not validated yet) or ``missing``."""
    prefix = batch_prefix(kind, name, dt)
    if is_validated(lake, prefix):
        return "validated"
    if lake.exists(quarantine_prefix(kind, name, dt) + MANIFEST):
        return "failed"
    if lake.exists(prefix + VALIDATION):  # a validation that recorded failure
        return "failed"
    if lake.exists(prefix + HEALTH) and not lake.exists(prefix + MANIFEST):
        try:
            skipped = json.loads(lake.read_text(prefix + HEALTH)).get("source_skipped")
        except ValueError:
            skipped = None
        if skipped:
            return "failed" if skipped == "blocked-by-site" else "skipped"
    return "pending" if lake.exists(prefix + MANIFEST) or lake.exists(prefix + HEALTH) else "missing"


def active_sources(lake: Lake, enabled: dict[str, str], dt: str, lookback_days: int) -> list[str]:
    """Enabled sources (name -> kind) that left a batch, health or quarantine in the lake near ``dt``."""
    since = (datetime.fromisoformat(dt) - timedelta(days=lookback_days)).strftime("%Y-%m-%d")
    seen = set()
    for root in ("batches/", "quarantine/"):
        for key in lake.list(root):
            m = re.match(r"[a-z]+/kind=[a-z]+/source=([^/]+)/dt=([0-9-]{10})/", key)
            if m and since <= m.group(2) <= dt:
                seen.add(m.group(1))
    return sorted(name for name in enabled if name in seen)


def readiness(
    lake: Lake, dt: str, enabled: dict[str, str], now: datetime, cutoff_hours: float, lookback_days: int = 7,
    awaited: list[str] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The readiness of ``dt`` at ``now`` (see the module docstring).

    Args:
        lake: The lake.
        dt: The date to rank.
        enabled: Enabled sources of the registry, name -> kind (``portal`` | ``social``).
        now: The current time (UTC).
        cutoff_hours: Hours after midnight UTC of ``dt`` after which the date is ranked with what it has.
        lookback_days: How far back a source counts as active.
        awaited: The sources to wait for (default: the active ones, see :func:`active_sources`).

    Returns:
        ``dt``, ``ready``, ``reason`` (``complete`` | ``cut-off`` | ``waiting``), the ``states`` of the awaited
        sources, the sources ``in`` (validated), ``skipped``, ``failed`` and ``late`` (not finished), whether the
        catalog index holds the date's portal batches (``catalog_indexed``) and ``cutoff_at``.
    """
    names = list(awaited) if awaited else active_sources(lake, enabled, dt, lookback_days) or sorted(enabled)
    states = {n: source_state(lake, enabled.get(n, "social"), n, dt) for n in names}
    portals = sorted(n for n, s in states.items() if s == "validated" and enabled.get(n) == "portal")
    indexed: list[str] = []
    if lake.exists(catalog_state_key(dt)):
        indexed = json.loads(lake.read_text(catalog_state_key(dt))).get("sources", [])
    unindexed = sorted(set(portals) - set(indexed))
    cutoff_at = datetime.fromisoformat(dt).replace(tzinfo=UTC) + timedelta(hours=cutoff_hours)
    complete = all(s in DONE for s in states.values()) and not unindexed
    ready = complete or now >= cutoff_at
    late = sorted(n for n, s in states.items() if s not in DONE)
    return {
        "dt": dt, "ready": ready, "reason": "complete" if complete else "cut-off" if ready else "waiting",
        "states": states, "in": sorted(n for n, s in states.items() if s == "validated"),
        "skipped": sorted(n for n, s in states.items() if s == "skipped"),
        "failed": sorted(n for n, s in states.items() if s == "failed"), "late": late,
        "catalog_indexed": not unindexed, "unindexed": unindexed, "cutoff_at": cutoff_at.isoformat(),
    }  # fmt: skip


def describe(state: dict[str, Any]) -> str:
    """One log line: which sources are in and which are late."""
    parts = [f"{state['dt']}: {state['reason']}", f"in {len(state['in'])} ({', '.join(state['in']) or '-'})"]
    for key in ("skipped", "failed", "late", "unindexed"):
        if state[key]:
            parts.append(f"{key} {', '.join(state[key])}")
    return "; ".join(parts) + f"; cut-off {state['cutoff_at']}"
