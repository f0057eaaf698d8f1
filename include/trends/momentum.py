"""Momentum: how a design's score moved since the previous published runs, and the history it is read from.

Every published run appends its scored designs (all of them, not only the top) to the history table

    history/winning_designs/dt=<d>/part.parquet     (rerunning a date replaces its partition)

A design's momentum compares its score with its *baseline*, the mean of its scores in the last ``runs`` earlier
runs of the history (0 in a run that did not score it), which smooths the day-to-day noise of small samples:

* ``new``: scored in none of those runs (or there is no earlier run),
* ``rising`` / ``falling``: the score differs from the baseline by at least ``change`` (relative, 0.25 = 25 %),
* ``steady``: otherwise.

``delta`` is the plain difference with the latest earlier run (what the report plots).

An unreadable partition is skipped with an error in the log and noted in the run manifest.
"""

from __future__ import annotations

import io
import logging
import re

import pandas as pd

from include.core.lake import Lake, LakeError
from include.core.layout import HISTORY_PREFIX, history_key

log = logging.getLogger(__name__)
HISTORY_COLUMNS = ["dt", "run_id", "design_id", "score", "current_score", "upcoming_score", "support_posts", "theme"]
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
        frame, why = read_partition(lake, history_key(day), HISTORY_COLUMNS)
        if frame is None:
            log.error("history partition %s is unreadable, skipped: %s", history_key(day), why)
            notes.append(f"{history_key(day)} unreadable: {why}")
            continue
        frames.append(frame[HISTORY_COLUMNS])
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


def history_frame(dt: str, run_id: str, scores: pd.DataFrame, themes: dict[str, str]) -> pd.DataFrame:
    """This run's history rows: every scored design (``include.trends.scoring.score_designs``) with its theme."""
    frame = scores.reset_index().rename(columns={"index": "design_id"})
    frame = frame.assign(dt=dt, run_id=run_id, theme=frame["design_id"].map(lambda d: themes.get(d)))
    return frame[HISTORY_COLUMNS].sort_values("design_id", kind="stable").reset_index(drop=True)
