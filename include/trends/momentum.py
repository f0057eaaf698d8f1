"""Momentum: how a design's score moved since the previous published runs, and the history it is read from.

Every published run appends its scored designs (all of them, not only the top) to the history table

    history/winning_designs/dt=<d>/part.parquet     (rerunning a date replaces its partition)

A design's momentum compares its score with its *baseline*, the mean of its scores in the last ``runs`` earlier
runs of the history (0 in a run that did not score it), which smooths the day-to-day noise of small samples:

* ``new``: scored in none of those runs (or there is no earlier run),
* ``rising`` / ``falling``: the score differs from the baseline by at least ``change`` (relative, 0.25 = 25 %),
* ``steady``: otherwise.

``delta`` is the plain difference with the latest earlier run (what the report plots).

**A source missing from a run is left out of the comparison.** Each history row keeps the design's points per
source (``source_points``) and the sources that delivered a batch that night (``run_sources``). When the sources
of this run and of the compared runs differ (a source down one night, a new one), momentum, ``delta`` and
``previous_score`` compare only the sources present in all of them, and :func:`comparable` says which were left
out (the run's notes carry that line); a design is not called falling because a source it was seen on did not run.
History written before these columns existed is compared on the whole score.

An unreadable partition is skipped with an error in the log and noted in the run manifest.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Mapping

import pandas as pd

from include.core.lake import Lake, LakeError
from include.core.layout import HISTORY_PREFIX, history_key

log = logging.getLogger(__name__)
REQUIRED_COLUMNS = ["dt", "run_id", "design_id", "score", "current_score", "upcoming_score", "support_posts", "theme"]
HISTORY_COLUMNS = [*REQUIRED_COLUMNS, "source_points", "run_sources"]  # JSON {source: points}, JSON [sources]
MOMENTUM_COLUMNS = ["momentum", "delta", "previous_score", "previous_dt"]


def partition_dates(lake: Lake, prefix: str = HISTORY_PREFIX) -> list[str]:
    """Dates of the ``<prefix>dt=<d>/part.parquet`` partitions in the lake, oldest first."""
    pattern = re.compile(re.escape(prefix) + r"dt=([0-9]{4}-[0-9]{2}-[0-9]{2})/part\.parquet$")
    return sorted({m.group(1) for k in lake.list(prefix) if (m := pattern.search(k))})


def read_partition(lake: Lake, key: str, columns: list[str]) -> tuple[pd.DataFrame | None, str]:
    """A history partition holding ``columns``, or ``(None, why)`` when it is unreadable or lacks some."""
    try:
        frame = pd.read_parquet(io.BytesIO(lake.read_bytes(key)))
    except (LakeError, OSError, ValueError) as exc:
        return None, str(exc)
    missing = set(columns) - set(frame.columns)
    return (None, f"missing columns {sorted(missing)}") if missing else (frame, "")


def previous_runs(lake: Lake, dt: str, runs: int = 3) -> tuple[pd.DataFrame, list[str]]:
    """History rows of the ``runs`` latest dates before ``dt``, and notes about partitions that were unreadable."""
    frames, notes = [], []
    for day in [d for d in partition_dates(lake) if d < dt][::-1]:
        if len(frames) == runs:
            break
        frame, why = read_partition(lake, history_key(day), REQUIRED_COLUMNS)
        if frame is None:
            log.error("history partition %s is unreadable, skipped: %s", history_key(day), why)
            notes.append(f"{history_key(day)} unreadable: {why}")
            continue
        frames.append(frame.reindex(columns=HISTORY_COLUMNS))  # older partitions: no per-source columns
    if not frames:
        return pd.DataFrame(columns=HISTORY_COLUMNS), notes
    return pd.concat(frames[::-1], ignore_index=True), notes


def classify(scores: pd.Series, previous: pd.DataFrame, change: float = 0.25) -> pd.DataFrame:
    """Momentum of each design in ``scores`` (index design id) against the runs in ``previous``.

    Args:
        scores: This run's score per design id.
        previous: History rows of the earlier runs to compare with (:func:`previous_runs`).
        change: Relative change from the baseline that counts as rising / falling.

    Returns:
        Index design id; ``momentum``, ``delta`` (score minus the latest earlier run's score, 0 when absent there),
        ``previous_score`` (that run's score; NaN when absent) and ``previous_dt`` (None without earlier runs).
    """
    out = pd.DataFrame(index=scores.index, columns=MOMENTUM_COLUMNS)
    dates = sorted(previous["dt"].unique()) if not previous.empty else []
    prev_dt = str(dates[-1]) if dates else None
    wide = previous.pivot_table(index="design_id", columns="dt", values="score", aggfunc="sum") if dates else None
    now = scores.astype(float)
    if wide is None:
        last = pd.Series(float("nan"), index=scores.index)
        baseline = pd.Series(float("nan"), index=scores.index)
    else:
        wide = wide.reindex(scores.index)
        last = wide[prev_dt] if prev_dt in wide else pd.Series(float("nan"), index=scores.index)
        seen = wide.notna().any(axis=1)
        baseline = wide.fillna(0.0).reindex(columns=dates, fill_value=0.0).mean(axis=1).where(seen)
    out["previous_score"] = last.astype(float).to_numpy()
    out["delta"] = (now - last.fillna(0.0)).round(6).to_numpy()
    rel = ((now - baseline) / baseline.where(baseline > 0)).to_numpy()
    known = baseline.notna().to_numpy()
    out["momentum"] = "steady"
    out.loc[~known, "momentum"] = "new"
    out.loc[known & (rel >= change), "momentum"] = "rising"
    out.loc[known & (rel <= -change), "momentum"] = "falling"
    out["previous_dt"] = prev_dt
    return out


def _run_sources(previous: pd.DataFrame) -> dict[str, set[str] | None]:
    """Per earlier date, the sources present that night (None: not recorded)."""
    out: dict[str, set[str] | None] = {}
    for day, rows in previous.groupby("dt", sort=True):
        known = rows["run_sources"].dropna() if "run_sources" in rows else pd.Series(dtype=object)
        out[str(day)] = set(json.loads(known.iloc[0])) if len(known) else None
    return out


def comparable(
    scores: pd.Series, previous: pd.DataFrame, by_source: Mapping[str, Mapping[str, float]] | None,
    present: set[str] | None,
) -> tuple[pd.Series, pd.DataFrame, str | None]:  # fmt: skip
    """Scores of this run and of the earlier runs restricted to the sources present in all of them.

    Args:
        scores: This run's score per design id.
        previous: History rows of the earlier runs.
        by_source: This run's design id -> {source: points} (``include.trends.scoring.points_by_source``).
        present: The sources that delivered a batch this run (None: unknown, whole scores are compared).

    Returns:
        This run's scores, the history rows with ``score`` replaced, and a note naming the sources left out
        (None when every run had the same sources).
    """
    runs = _run_sources(previous) if not previous.empty else {}
    if present is None or by_source is None or not runs or any(v is None for v in runs.values()):
        return scores, previous, None
    common = set(present).intersection(*runs.values())
    if all(v == common for v in runs.values()) and set(present) == common:
        return scores, previous, None
    now = pd.Series({d: sum(v for s, v in by_source.get(d, {}).items() if s in common) for d in scores.index},
                    dtype=float).reindex(scores.index).fillna(0.0)  # fmt: skip
    old = previous["source_points"].map(lambda j: sum(v for s, v in json.loads(j or "{}").items() if s in common))
    absent = {s: sorted(d for d, v in runs.items() if s not in v) for s in sorted(set().union(*runs.values()))}
    left = [f"{s} (absent {', '.join(absent[s]) or 'earlier'})" for s in sorted(set(present) - common)]
    left += [f"{s} (absent this run)" for s in sorted(set().union(*runs.values()) - set(present))]
    note = (f"momentum compares only the sources present in this run and in {', '.join(sorted(runs))}: "
            f"{', '.join(sorted(common)) or 'none'}; left out: {'; '.join(left)}")  # fmt: skip
    log.warning(note)
    return now.round(6), previous.assign(score=old.astype(float).round(6)), note


def history_frame(
    dt: str, run_id: str, scores: pd.DataFrame, themes: dict[str, str],
    by_source: Mapping[str, Mapping[str, float]] | None = None, present: set[str] | None = None,
) -> pd.DataFrame:  # fmt: skip
    """This run's history rows: every scored design (``include.trends.scoring.score_designs``) with its theme,
    its points per source and the sources present in the run (see :func:`comparable`)."""
    frame = scores.reset_index().rename(columns={"index": "design_id"})
    frame = frame.assign(dt=dt, run_id=run_id, theme=frame["design_id"].map(lambda d: themes.get(d)))
    frame["source_points"] = frame["design_id"].map(
        lambda d: json.dumps(dict(sorted((by_source or {}).get(d, {}).items()))) if by_source is not None else None
    )
    frame["run_sources"] = json.dumps(sorted(present)) if present is not None else None
    return frame[HISTORY_COLUMNS].sort_values("design_id", kind="stable").reset_index(drop=True)
