"""Atomic publishing of a run's report: write under an immutable prefix, verify, then switch one pointer.

    reports/dt=<d>/<run_id>/winning_designs.parquet | winning_designs.csv | report.html | manifest.json
    reports/latest.json  ->  {"dt", "run_id", "prefix", ...}

The run id is a hash of the table and the run's inputs, so rerunning a date with the same inputs rewrites
the same bytes at the same prefix. ``latest.json`` moves only after every file was read back and matched its
checksum, and never back to an older date (a backfill publishes without moving it).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from include.lake import Lake, LakeError
from include.layout import LATEST, report_prefix
from include.report_html import render_report

log = logging.getLogger(__name__)
SCHEMA_VERSION = 1


class PublishError(RuntimeError):
    """The report could not be written and verified; ``latest.json`` was left as it was."""


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def table_bytes(table: pd.DataFrame) -> dict[str, bytes]:
    """The table as parquet and CSV bytes (deterministic for identical input)."""
    buf = io.BytesIO()
    table.to_parquet(buf, index=False)
    return {
        "winning_designs.parquet": buf.getvalue(),
        "winning_designs.csv": table.to_csv(index=False, lineterminator="\n").encode("utf-8"),
    }


def read_latest(lake: Lake) -> dict[str, Any] | None:
    """The current ``latest.json``, or None when missing or unreadable (a corrupt pointer is reported)."""
    if not lake.exists(LATEST):
        return None
    try:
        return json.loads(lake.read_text(LATEST))
    except (json.JSONDecodeError, LakeError) as exc:
        log.error("reports/latest.json is unreadable (%s); it will be replaced", exc)
        return None


def verify(lake: Lake, prefix: str, manifest: dict[str, Any]) -> None:
    """Read every file of a run back and check checksums and the table's row count."""
    for name, meta in manifest["files"].items():
        data = lake.read_bytes(prefix + name)
        if _sha(data) != meta["sha256"]:
            raise PublishError(f"{prefix}{name}: checksum mismatch after write")
    rows = len(pd.read_parquet(io.BytesIO(lake.read_bytes(prefix + "winning_designs.parquet"))))
    if rows != manifest["rows"]:
        raise PublishError(f"{prefix}: table has {rows} rows, manifest says {manifest['rows']}")


def publish_report(lake: Lake, table: pd.DataFrame, dt: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """Publish one run's table and report, then switch ``reports/latest.json`` to it.

    Args:
        lake: Where to publish.
        table: The ranked table (``include.ranking.TABLE_COLUMNS``).
        dt: Logical date of the run.
        inputs: What the run read (batches, model, index, parameters), recorded in the manifest.

    Returns:
        ``run_id``, ``prefix``, ``report`` URI, ``rows`` and whether ``latest`` moved.
    """
    files = table_bytes(table)
    run_id = "run-" + _sha(files["winning_designs.parquet"] + json.dumps(inputs, sort_keys=True).encode())[:16]
    prefix = report_prefix(dt, run_id)
    files["report.html"] = render_report(lake, table, dt, run_id).encode("utf-8")
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "dt": dt,
        "run_id": run_id,
        "rows": len(table),
        "files": {name: {"sha256": _sha(data), "bytes": len(data)} for name, data in sorted(files.items())},
        "inputs": inputs,
    }
    try:
        for name, data in files.items():
            lake.write_bytes(prefix + name, data)
        lake.write_text(prefix + "manifest.json", json.dumps(manifest, indent=2, sort_keys=True))
        verify(lake, prefix, manifest)
    except (LakeError, OSError, PublishError) as exc:
        raise PublishError(f"publishing {prefix} failed; latest.json unchanged: {exc}") from exc
    except Exception as exc:  # boto errors and the like
        raise PublishError(f"publishing {prefix} failed; latest.json unchanged: {exc}") from exc

    current = read_latest(lake)
    moved = current is None or str(current.get("dt", "")) <= dt
    if moved:
        pointer = {
            "dt": dt, "run_id": run_id, "prefix": prefix, "manifest": prefix + "manifest.json",
            "table": prefix + "winning_designs.parquet", "report": prefix + "report.html",
            "schema_version": SCHEMA_VERSION, "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }  # fmt: skip
        lake.write_text(LATEST, json.dumps(pointer, indent=2, sort_keys=True))
    else:
        log.info("published %s without moving latest.json (it points at the newer %s)", prefix, current["dt"])
    return {"run_id": run_id, "prefix": prefix, "report": lake.uri(prefix + "report.html"), "rows": len(table),
            "latest_moved": moved}  # fmt: skip
