"""``fti status``: the lake's state at a glance, and the freshness check of the latest report.

What it shows: the last batch of every source (date, rows, validated or quarantined), the champion embedding
model, the Milvus collection the alias serves, and the latest published report with its age. Everything is
read from the lake, except the live alias target: for a Milvus Lite file that needs the file's lock, so it is
asked for with a short lock timeout and reported as ``busy`` when a pipeline task holds the file.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

from include.core.lake import Lake
from include.core.layout import HEALTH, LATEST, VALIDATION
from include.core.settings import MilvusUriRequired, Settings

log = logging.getLogger(__name__)

_BATCH_FILE = re.compile(r"^(?P<area>batches|quarantine)/kind=(?P<kind>[^/]+)/source=(?P<source>[^/]+)/dt=(?P<dt>[^/]+)/(?P<name>[^/]+)$")  # fmt: skip  # noqa: E501


class StaleReportError(RuntimeError):
    """The latest published report is older than allowed (or there is none)."""


def report_freshness(lake: Lake, max_age_hours: float, now: datetime | None = None) -> dict[str, Any]:
    """Age of ``reports/latest.json`` against ``max_age_hours``.

    The age counts from the pointer's ``published_at`` (when the pointer has none, from the end of its ``dt``).

    Returns:
        ``{"dt", "run_id", "published_at", "age_hours", "max_age_hours", "fresh", "report"}``; ``fresh`` is
        False and ``dt`` None when nothing was ever published.
    """
    now = now or datetime.now(UTC)
    out: dict[str, Any] = {"dt": None, "run_id": None, "published_at": None, "age_hours": None,
                           "max_age_hours": max_age_hours, "fresh": False, "report": None}  # fmt: skip
    if not lake.exists(LATEST):
        return out
    try:
        latest = json.loads(lake.read_text(LATEST))
    except ValueError as exc:
        log.error("%s is unreadable: %s", lake.uri(LATEST), exc)
        return out
    stamp = latest.get("published_at") or f"{latest.get('dt')}T23:59:59+00:00"
    published = datetime.fromisoformat(stamp)
    if published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    age = (now - published).total_seconds() / 3600
    out.update(dt=latest.get("dt"), run_id=latest.get("run_id"), published_at=published.isoformat(),
               age_hours=round(age, 2), fresh=age <= max_age_hours,
               report=lake.uri(latest["report"]) if latest.get("report") else None)  # fmt: skip
    return out


def check_freshness(lake: Lake, max_age_hours: float, now: datetime | None = None) -> dict[str, Any]:
    """:func:`report_freshness`, raising when the report is stale.

    Raises:
        StaleReportError: no report, or the latest one is older than ``max_age_hours``.
    """
    state = report_freshness(lake, max_age_hours, now)
    if state["dt"] is None:
        raise StaleReportError(f"no report was ever published in {lake.uri('reports/')}")
    if not state["fresh"]:
        raise StaleReportError(
            f"the latest report (dt={state['dt']}, run {state['run_id']}) was published {state['age_hours']:.1f} h "
            f"ago, more than {max_age_hours:g} h: check the crawl_*, embed_catalog and rank_trends runs"
        )
    return state


def last_batches(lake: Lake) -> list[dict[str, Any]]:
    """The newest batch of every source found in the lake (validated, failed or quarantined)."""
    found: dict[str, set[tuple[str, int, str]]] = {}
    for area in ("batches/", "quarantine/"):
        for key in lake.list(area):
            m = _BATCH_FILE.match(key)
            if m:  # rank: the newest date first, then a live batch over a quarantined one
                found.setdefault(m["source"], set()).add((m["dt"], int(m["area"] == "batches"), m["kind"]))
    newest = {}
    for source, seen in found.items():
        dt, live, kind = max(seen)
        area = "batches" if live else "quarantine"
        newest[source] = {"kind": kind, "dt": dt, "area": area,
                          "prefix": f"{area}/kind={kind}/source={source}/dt={dt}/"}  # fmt: skip
    rows = []
    for name in sorted(newest):
        cur = newest[name]
        item = {"source": name, "kind": cur["kind"], "dt": cur["dt"], "rows": None, "items": None,
                "state": "quarantined" if cur["area"] == "quarantine" else "unvalidated"}  # fmt: skip
        prefix = cur["prefix"]
        if lake.exists(prefix + VALIDATION):
            result = _json(lake, prefix + VALIDATION)
            item["rows"] = result.get("rows")
            if cur["area"] == "batches":
                item["state"] = "validated" if result.get("success") else "failed"
        if lake.exists(prefix + HEALTH):
            item["items"] = _json(lake, prefix + HEALTH).get("items")
        rows.append(item)
    return rows


def champion(lake: Lake) -> dict[str, Any] | None:
    """The champion model card (``training.registry.champion``), or None (no model promoted, or no training)."""
    try:
        from training.registry import champion as read_champion
    except ImportError:
        return None
    try:
        return read_champion(lake)
    except Exception as exc:  # a corrupt pointer must not break the status
        log.warning("champion unreadable: %s", exc)
        return {"error": str(exc)}


def alias_target(lake: Lake, settings: Settings, live: bool = True, lock_timeout: float = 3.0) -> dict[str, Any]:
    """The collection the alias serves: from the lake's alias history, and live from Milvus when ``live``.

    For a Milvus Lite file the live read waits at most ``lock_timeout`` seconds for the file's lock and then
    reports ``"busy"``; it holds the lock only for the query.
    """
    try:
        uri = settings.resolved_milvus_uri()
    except MilvusUriRequired as exc:
        return {"alias": settings.collection, "uri": None, "recorded": None, "model_version": None, "live": None,
                "error": str(exc)}  # fmt: skip
    out: dict[str, Any] = {"alias": settings.collection, "uri": uri,
                           "recorded": None, "model_version": None, "live": None}  # fmt: skip
    key = f"index/{settings.collection}-versions.json"
    if lake.exists(key):
        history = _json(lake, key)
        if isinstance(history, list) and history:
            out["recorded"] = history[-1].get("collection")
            out["model_version"] = history[-1].get("model_version")
    if not live:
        return out
    uri = out["uri"]
    if "://" not in uri and not _file_exists(uri):
        out["live"] = "no index yet"
        return out
    try:
        from embedding.index import MilvusConnection
        from embedding.lock import MilvusLockTimeout
    except ImportError:
        return out
    try:
        with MilvusConnection(uri, settings.milvus_token, lock_timeout=lock_timeout) as conn:
            out["live"] = conn.alias_target(settings.collection) or "no alias"
    except MilvusLockTimeout:
        out["live"] = "busy (a task holds the Milvus Lite file)"
    except Exception as exc:  # unreachable server, corrupt file: report, don't fail the status
        out["live"] = f"unavailable: {str(exc)[:200]}"
    return out


def lake_status(lake: Lake, settings: Settings, live: bool = True, now: datetime | None = None) -> dict[str, Any]:
    """Everything ``fti status`` prints, as plain data."""
    card = champion(lake)
    return {
        "lake": lake.uri(),
        "batches": last_batches(lake),
        "champion": card,
        "model_in_service": (card or {}).get("version") or f"imagenet-{settings.model_name}",
        "alias": alias_target(lake, settings, live=live),
        "latest_report": report_freshness(lake, settings.freshness_max_hours, now),
    }


def render(status: dict[str, Any]) -> str:
    """The status as text for a terminal."""
    lines = [f"lake: {status['lake']}", "", "last batch per source:"]
    if not status["batches"]:
        lines.append("  (none)")
    for b in status["batches"]:
        lines.append(f"  {b['source']:<36} {b['kind']:<7} dt={b['dt']}  {b['state']:<12} rows={b['rows']} "
                     f"items={b['items']}")  # fmt: skip
    card = status["champion"]
    lines += ["", f"champion model: {card.get('version', card) if card else 'none'}"
              f" (in service: {status['model_in_service']})"]  # fmt: skip
    alias = status["alias"]
    lines.append(f"alias {alias['alias']}: recorded -> {alias['recorded'] or 'none'}; live -> {alias['live']}"
                 f"  ({alias['uri']})")  # fmt: skip
    rep = status["latest_report"]
    if rep["dt"] is None:
        lines.append("latest report: none")
    else:
        state = "fresh" if rep["fresh"] else f"STALE (> {rep['max_age_hours']:g} h)"
        lines.append(f"latest report: dt={rep['dt']} run={rep['run_id']} published {rep['published_at']} "
                     f"({rep['age_hours']:.1f} h ago, {state})")  # fmt: skip
        lines.append(f"  {rep['report']}")
    return "\n".join(lines)


def main(as_json: bool = False, live: bool = True) -> dict[str, Any]:
    """Print the status of the configured lake (``fti status``)."""
    from include.core.lake import open_lake
    from include.core.settings import get_settings

    settings = get_settings()
    lake = open_lake(settings.lake, settings.s3_endpoint_url)
    status = lake_status(lake, settings, live=live)
    print(json.dumps(status, indent=2, default=str) if as_json else render(status))
    return status


def _json(lake: Lake, key: str) -> Any:
    try:
        return json.loads(lake.read_text(key))
    except ValueError:
        return {}


def _file_exists(path: str) -> bool:
    from pathlib import Path

    return Path(path).exists()
