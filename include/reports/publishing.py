"""Atomic, auditable publishing of a run: write under an immutable prefix, verify, then switch one pointer.

    reports/dt=<d>/<run_id>/winning_designs.parquet|.csv|.json, themes.parquet, forecasts.parquet, report.html,
                            manifest.json
    history/winning_designs/dt=<d>/part.parquet      (every scored design of the run, for momentum and trends)
    history/themes/dt=<d>/part.parquet               (the theme registry, for stable theme ids)
    reports/latest.json  ->  {"dt", "run_id", "prefix", "table", "themes", "report", ...}

The run id is a hash of the run's inputs (batches, matches, model and index version, parameters, the history it
compared with), so rerunning a date with the same inputs rewrites the same bytes at the same prefix.
``manifest.json`` records every file's sha256 and size, the tables' row counts and the inputs; every file is
read back against it before ``latest.json`` moves. The pointer is switched with a conditional write (S3
``If-Match`` on the ETag read, or ``If-None-Match: *`` when absent; a file lock and a content check on a local
lake), so of two concurrent runs only one switch succeeds at a time; the other re-reads the pointer and decides
again. ``latest.json`` never moves back to an older date (a backfill publishes without moving it). When any
step fails, the run's files are removed (unless ``latest.json`` points at that very prefix) and the history
partition is restored: nothing partial stays behind.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from include.core.hashing import sha256_hex
from include.core.lake import Lake, LakeError, LocalLake, S3Lake
from include.core.layout import LATEST, history_key, report_prefix
from include.reports.schema import SCHEMA_VERSION, THEME_COLUMNS

log = logging.getLogger(__name__)
TABLES = {"winning_designs.parquet": "parquet", "winning_designs.csv": "csv", "winning_designs.json": "json",
          "themes.parquet": "parquet", "forecasts.parquet": "parquet"}  # fmt: skip


class PublishError(RuntimeError):
    """The report could not be written and verified; ``latest.json`` was left as it was."""


def _parquet(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return buf.getvalue()


def _designs_parquet(table: pd.DataFrame) -> bytes:
    """The winning designs as Parquet with ``offers`` and ``evidence`` as lists of structs (schema.NESTED)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from include.reports.schema import NESTED, nested

    flat = table.drop(columns=[c for c in NESTED if c in table.columns])
    arrow = pa.Table.from_pandas(flat, preserve_index=False)
    for name, fields in NESTED.items():
        if name not in table.columns:
            continue
        kind = pa.list_(pa.struct([(f, pa.type_for_alias(t)) for f, t in fields.items()]))
        rows = [[{f: item.get(f) for f in fields} for item in nested(v)] for v in table[name]]
        arrow = arrow.add_column(list(table.columns).index(name), name, pa.array(rows, type=kind))
    buf = io.BytesIO()
    pq.write_table(arrow, buf)
    return buf.getvalue()


def table_bytes(table: pd.DataFrame, themes: pd.DataFrame | None = None) -> dict[str, bytes]:
    """The tables as parquet, CSV and JSON bytes (deterministic for identical input); in Parquet the nested
    ``offers`` and ``evidence`` are lists of structs, in CSV and JSON their JSON text."""
    themes = themes if themes is not None else pd.DataFrame(columns=THEME_COLUMNS)
    return {
        "winning_designs.parquet": _designs_parquet(table),
        "winning_designs.csv": table.to_csv(index=False, lineterminator="\n").encode("utf-8"),
        "winning_designs.json": table.to_json(orient="records", indent=1, force_ascii=False).encode("utf-8") + b"\n",
        "themes.parquet": _parquet(themes),
    }


def _rows(name: str, data: bytes) -> int:
    kind = TABLES[name]
    if kind == "parquet":
        return len(pd.read_parquet(io.BytesIO(data)))
    if kind == "csv":
        return len(pd.read_csv(io.BytesIO(data)))
    return len(json.loads(data))


def run_id_for(inputs: dict[str, Any]) -> str:
    """The run id: a hash of the run's inputs."""
    return "run-" + sha256_hex(json.dumps(inputs, sort_keys=True, default=str).encode())[:16]


# -- the pointer -------------------------------------------------------------------------------------------
def _read_pointer(lake: Lake) -> tuple[bytes | None, str | None]:
    """(bytes, version token) of ``latest.json``; token is the S3 ETag or the content's sha256."""
    if isinstance(lake, S3Lake):
        from botocore.exceptions import ClientError

        try:
            obj = lake.client.get_object(Bucket=lake.bucket, Key=lake._key(LATEST))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404", "NotFound"}:
                return None, None
            raise
        return obj["Body"].read(), obj["ETag"]
    if not lake.exists(LATEST):
        return None, None
    data = lake.read_bytes(LATEST)
    return data, sha256_hex(data)


def _write_pointer(lake: Lake, data: bytes, token: str | None) -> bool:
    """Write ``latest.json`` only if it is still at version ``token``; False when someone else moved it."""
    if isinstance(lake, S3Lake):
        from botocore.exceptions import ClientError

        condition = {"IfMatch": token} if token else {"IfNoneMatch": "*"}
        try:
            lake.client.put_object(Bucket=lake.bucket, Key=lake._key(LATEST), Body=data,
                                   ContentType="application/json", **condition)  # fmt: skip
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"PreconditionFailed", "412", "ConditionalRequestConflict"}:
                return False
            raise
        return True
    if isinstance(lake, LocalLake):
        import fcntl

        lock = lake.root / "reports" / ".latest.lock"
        lock.parent.mkdir(parents=True, exist_ok=True)
        with open(lock, "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                if _read_pointer(lake)[1] != token:
                    return False
                lake.write_bytes(LATEST, data)
                return True
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
    if _read_pointer(lake)[1] != token:  # another Lake type: best effort (check, then write)
        return False
    lake.write_bytes(LATEST, data)
    return True


def read_latest(lake: Lake) -> dict[str, Any] | None:
    """The current ``latest.json``, or None when missing or unreadable (a corrupt pointer is reported)."""
    try:
        data, _ = _read_pointer(lake)
        return None if data is None else json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError, LakeError) as exc:
        log.error("reports/latest.json is unreadable (%s); it will be replaced", exc)
        return None


def switch_latest(lake: Lake, pointer: dict[str, Any], attempts: int = 5) -> bool:
    """Point ``latest.json`` at ``pointer`` unless it already points at a newer date; True when it moved."""
    for _ in range(attempts):
        data, token = _read_pointer(lake)
        try:
            current = json.loads(data) if data is not None else None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            log.error("reports/latest.json is unreadable (%s); it will be replaced", exc)
            current = None
        if current and str(current.get("dt", "")) > pointer["dt"]:
            log.info("published %s without moving latest.json (it points at the newer %s)", pointer["prefix"],
                     current["dt"])  # fmt: skip
            return False
        if _write_pointer(lake, json.dumps(pointer, indent=2, sort_keys=True).encode(), token):
            return True
        log.warning("latest.json moved while publishing %s; reading it again", pointer["prefix"])
    raise PublishError(f"latest.json kept changing during {attempts} attempts; {pointer['prefix']} not switched")


# -- publishing --------------------------------------------------------------------------------------------
def verify(lake: Lake, prefix: str, manifest: dict[str, Any]) -> None:
    """Read every file of a run back and check checksums and row counts."""
    for name, meta in manifest["files"].items():
        data = lake.read_bytes(prefix + name)
        if sha256_hex(data) != meta["sha256"]:
            raise PublishError(f"{prefix}{name}: checksum mismatch after write")
        if name in TABLES and _rows(name, data) != manifest["rows"][name.split(".")[0]]:
            raise PublishError(f"{prefix}{name}: row count differs from the manifest")


def publish_report(
    lake: Lake, table: pd.DataFrame, dt: str, inputs: dict[str, Any], *, themes: pd.DataFrame | None = None,
    history: pd.DataFrame | None = None, run_id: str | None = None, report_html: str | None = None,
    forecasts: pd.DataFrame | None = None, extra_history: Mapping[str, pd.DataFrame] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Publish one run's tables and report, verify them, append its history, then switch ``latest.json``.

    Args:
        lake: Where to publish.
        table: The ranked table (``include.reports.schema.TABLE_COLUMNS``).
        dt: Logical date of the run.
        inputs: What the run read (batches, model, index, parameters), recorded in the manifest.
        themes: The themes table (``THEME_COLUMNS``); empty when None.
        history: This run's history rows (``include.trends.momentum.history_frame``); none written when None.
        run_id: The run id (default: a hash of ``inputs`` and the table).
        report_html: The page (default: ``include.reports.html.render_report`` of the table alone).
        forecasts: The trend forecasts (``FORECAST_COLUMNS``), published as ``forecasts.parquet`` when given.
        extra_history: More history partitions of this run (lake key -> rows), written and undone with ``history``.

    Returns:
        ``run_id``, ``prefix``, ``report`` URI, ``rows`` and whether ``latest`` moved.

    Raises:
        PublishError: a write or the read-back failed; nothing of this run is left and ``latest.json`` is unchanged.
    """
    files = table_bytes(table, themes)
    if forecasts is not None:
        files["forecasts.parquet"] = _parquet(forecasts)
    run_id = run_id or run_id_for({**inputs, "table": sha256_hex(files["winning_designs.parquet"])})
    prefix = report_prefix(dt, run_id)
    if report_html is None:
        from include.reports.html import render_report

        report_html = render_report(lake, table, dt, run_id)
    files["report.html"] = report_html.encode("utf-8")
    rows = {"winning_designs": len(table), "themes": 0 if themes is None else len(themes)}
    if forecasts is not None:
        rows["forecasts"] = len(forecasts)
    manifest = {
        "schema_version": SCHEMA_VERSION, "dt": dt, "run_id": run_id, "rows": rows,
        "files": {name: {"sha256": sha256_hex(data), "bytes": len(data)} for name, data in sorted(files.items())},
        "inputs": inputs,
    }  # fmt: skip
    pointer = {
        "dt": dt, "run_id": run_id, "prefix": prefix, "manifest": prefix + "manifest.json",
        "table": prefix + "winning_designs.parquet", "csv": prefix + "winning_designs.csv",
        "json": prefix + "winning_designs.json", "themes": prefix + "themes.parquet", "report": prefix + "report.html",
        "rows": len(table), "schema_version": SCHEMA_VERSION,
        "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }  # fmt: skip
    if forecasts is not None:
        pointer["forecasts"] = prefix + "forecasts.parquet"
    partitions = {history_key(dt): history} if history is not None else {}
    partitions.update(extra_history or {})
    old = {key: lake.read_bytes(key) if lake.exists(key) else None for key in partitions}
    try:
        for name, data in files.items():
            lake.write_bytes(prefix + name, data)
        lake.write_text(prefix + "manifest.json", json.dumps(manifest, indent=2, sort_keys=True))
        verify(lake, prefix, manifest)
        for key, rows_of in partitions.items():
            lake.write_bytes(key, _parquet(rows_of.assign(run_id=run_id)))
        moved = switch_latest(lake, pointer)
    except Exception as exc:  # lake, boto and verification errors alike: undo, keep latest.json
        _undo(lake, prefix, old)
        raise PublishError(f"publishing {prefix} failed; latest.json unchanged: {exc}") from exc
    return {"run_id": run_id, "prefix": prefix, "report": lake.uri(prefix + "report.html"), "rows": len(table),
            "themes": rows["themes"], "latest_moved": moved}  # fmt: skip


def _undo(lake: Lake, prefix: str, old: Mapping[str, bytes | None]) -> None:
    """Best-effort removal of a failed run's files (never of the run ``latest.json`` points at); history restored."""
    try:
        if (read_latest(lake) or {}).get("prefix") != prefix:
            lake.delete_prefix(prefix)
        for key, data in old.items():
            if data is not None:
                lake.write_bytes(key, data)
            elif lake.exists(key):
                lake.delete_prefix(key)
    except Exception as exc:  # the store may be the thing that failed
        log.error("could not clean up after the failed publish of %s: %s", prefix, exc)
