"""The design registry: a design keeps the id it was first given, whatever a later catalog crawl looks like.

:func:`include.trends.designs.build_catalog` groups the run's catalog images into near-duplicate groups; on its
own it would name each group after its smallest sha256, which changes as soon as a portal re-encodes an image,
lists a new copy or drops one. The registry ``history/designs/dt=<d>/part.parquet`` holds, after each run, every
design seen so far: its id, its member image sha256s, its anchor vector (the unit vector it was first seen with)
and its first and last date. :func:`assign_ids` gives each of the run's groups

1. the id of a registry design that already holds one of its images (the oldest one when several do: the
   newer ones join it),
2. else the id of the registry design whose anchor vector is nearest, when their cosine is at least the
   near-duplicate threshold (a re-crawled, re-encoded image joins the design it is a copy of),
3. else a new id: the smallest sha256 of the group (as before the registry existed).

The run's images join their design's members; designs absent from a run stay in the registry (they may come
back) until they have been absent ``keep_days``. Rerunning a date reads the registry of the latest earlier date,
so it gives the same ids again.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import pandas as pd

from include.core.lake import Lake
from include.core.layout import DESIGN_REGISTRY_PREFIX, design_registry_key
from include.trends.designs import DesignCatalog
from include.trends.momentum import partition_dates, read_partition

log = logging.getLogger(__name__)
DESIGN_REGISTRY_COLUMNS = ["design_id", "members", "vector", "first_dt", "last_dt"]


def read_design_registry(lake: Lake, dt: str) -> tuple[pd.DataFrame, list[str]]:
    """The design registry of the latest run before ``dt`` (empty when none), and notes on unreadable ones."""
    notes = []
    for day in reversed([d for d in partition_dates(lake, DESIGN_REGISTRY_PREFIX) if d < dt]):
        frame, why = read_partition(lake, design_registry_key(day), DESIGN_REGISTRY_COLUMNS)
        if frame is not None:
            return frame[DESIGN_REGISTRY_COLUMNS].reset_index(drop=True), notes
        log.error("design registry %s is unreadable, an earlier one is used: %s", design_registry_key(day), why)
        notes.append(f"{design_registry_key(day)} unreadable: {why}")
    return pd.DataFrame(columns=DESIGN_REGISTRY_COLUMNS), notes


def _vector(value) -> np.ndarray | None:
    if value is None or (isinstance(value, float) and value != value) or len(value) == 0:
        return None
    vec = np.asarray(value, dtype=np.float64)
    return vec / max(float(np.linalg.norm(vec)), 1e-12)


def assign_ids(
    catalog: DesignCatalog, registry: pd.DataFrame, dt: str, threshold: float = 0.97, keep_days: int = 366
) -> tuple[DesignCatalog, pd.DataFrame, dict]:
    """The run's designs under their registry ids (see the module docstring).

    Args:
        catalog: :func:`include.trends.designs.build_catalog` (groups named by their smallest sha256).
        registry: :func:`read_design_registry`.
        dt: Run date.
        threshold: Cosine at which a group joins a registry design by its vector.
        keep_days: A design absent this long leaves the registry.

    Returns:
        The catalog with stable design ids (groups, offers, vectors; ``meta`` also holds each design id's
        representative listing), the registry after this run (``DESIGN_REGISTRY_COLUMNS``) and statistics
        (by_member, by_vector, new, carried) for the manifest.
    """
    registry = registry.reset_index(drop=True)
    holder = {str(sha): str(r.design_id) for r in registry.itertuples() for sha in r.members}
    first = {str(d): str(f) for d, f in zip(registry["design_id"], registry["first_dt"], strict=True)}
    anchors = [(str(r.design_id), v) for r in registry.itertuples() if (v := _vector(r.vector)) is not None]
    matrix = np.stack([v for _, v in anchors]) if anchors else None
    members: dict[str, list[str]] = {}
    for sha, group in sorted(catalog.groups.items()):
        members.setdefault(group, []).append(sha)
    final: dict[str, str] = {}
    stats = {"by_member": 0, "by_vector": 0, "new": 0}
    for group, shas in sorted(members.items()):
        known = sorted({holder[s] for s in shas if s in holder}, key=lambda d: (first.get(d, dt), d))
        vec = _vector(catalog.vectors.get(group))
        if known:
            final[group], how = known[0], "by_member"
        elif matrix is not None and vec is not None and vec.shape[0] == matrix.shape[1]:
            sims = matrix @ vec
            best = int(np.argmax(sims))
            final[group], how = (anchors[best][0], "by_vector") if sims[best] >= threshold else (group, "new")
        else:
            final[group], how = group, "new"
        stats[how] += 1
    groups = {sha: final[g] for sha, g in catalog.groups.items()}
    meta = dict(catalog.meta)
    offers: dict[str, list[dict]] = {}
    vectors: dict[str, np.ndarray] = {}
    for group in sorted(members):
        design = final[group]
        meta.setdefault(design, catalog.meta.get(group, {}))  # the design's own listing when it is not in this run
        offers.setdefault(design, []).extend(catalog.offers.get(group, []))
        if group in catalog.vectors:
            vectors.setdefault(design, catalog.vectors[group])
    for design, items in offers.items():
        unique = {(o["portal"], o["product_id"] or o["url"]): o for o in items}
        offers[design] = sorted(unique.values(), key=lambda o: (o["price"] is None, o["price"] or 0, o["portal"],
                                                                o["product_id"]))  # fmt: skip
    old = {str(r.design_id): r for r in registry.itertuples()}
    rows = []
    for design in sorted(set(final.values())):
        prev = old.get(design)
        mine = sorted({s for g, d in final.items() if d == design for s in members[g]})
        anchor = _vector(prev.vector) if prev is not None else None
        if anchor is None and design in vectors:
            anchor = vectors[design]
        rows.append({"design_id": design, "members": sorted(set(mine) | set(prev.members if prev is not None else [])),
                     "vector": None if anchor is None else anchor.astype(np.float32).tolist(),
                     "first_dt": first.get(design, dt), "last_dt": dt})  # fmt: skip
    cutoff = (pd.Timestamp(dt) - pd.Timedelta(days=keep_days)).strftime("%Y-%m-%d")
    carried = registry[~registry["design_id"].isin(set(final.values())) & (registry["last_dt"].astype(str) >= cutoff)]
    updated = pd.concat([pd.DataFrame(rows, columns=DESIGN_REGISTRY_COLUMNS), carried[DESIGN_REGISTRY_COLUMNS]],
                        ignore_index=True).sort_values("design_id", kind="stable").reset_index(drop=True)  # fmt: skip
    stats["carried"] = len(carried)
    return replace(catalog, groups=groups, meta=meta, offers=offers, vectors=vectors), updated, stats
