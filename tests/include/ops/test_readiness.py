"""The readiness rule of ``rank_trends``: sources finishing at different times, one ranking per date after the last
source (and the catalog index) or at the cut-off, read from the lake's state."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from include.core.lake import LocalLake
from include.core.layout import HEALTH, MANIFEST, VALIDATION, batch_prefix, catalog_state_key, quarantine_prefix
from include.ops.readiness import readiness, source_state
from include.trends.run import readiness_notes

ENABLED = {"insta": "social", "pins": "social", "shop1": "portal", "shop2": "portal", "never": "social"}


def validated(lake, kind, name, dt, ok=True):
    prefix = batch_prefix(kind, name, dt)
    lake.write_bytes(prefix + MANIFEST, b"parquet")
    lake.write_text(prefix + VALIDATION, json.dumps({"success": ok}))


def skipped(lake, kind, name, dt, why="no-credentials"):
    lake.write_text(batch_prefix(kind, name, dt) + HEALTH, json.dumps({"source_skipped": why}))


def indexed(lake, dt, sources):
    lake.write_text(catalog_state_key(dt), json.dumps({"dt": dt, "sources": sources}))


def night(lake, dt, events, cutoff_hours=10.0, poke_minutes=10):
    """Poke like the sensor from 01:00 (the cron) every ``poke_minutes``; events: (minute after midnight, write)."""
    start = datetime.fromisoformat(dt).replace(tzinfo=UTC) + timedelta(hours=1)
    rankings, done = [], set()
    for step in range(int(24 * 60 / poke_minutes)):
        now = start + timedelta(minutes=step * poke_minutes)
        for i, (minute, write) in enumerate(events):
            if i not in done and now >= datetime.fromisoformat(dt).replace(tzinfo=UTC) + timedelta(minutes=minute):
                write()
                done.add(i)
        state = readiness(lake, dt, ENABLED, now, cutoff_hours)
        if state["ready"]:
            rankings.append((now.strftime("%H:%M"), state))
            break  # the sensor succeeds once; the run ranks and ends: one ranking per date
    return rankings


def test_one_ranking_per_date_after_the_last_source_or_at_the_cut_off(tmp_path):
    lake = LocalLake(tmp_path)
    d0, d1, d2 = "2026-11-01", "2026-11-02", "2026-11-03"
    # A first night: every source that ran is in the lake; "never" (no credentials, never crawled) is not awaited.
    for name, kind in list(ENABLED.items())[:4]:
        validated(lake, kind, name, d0)
    indexed(lake, d0, ["shop1", "shop2"])
    # Night 1: socials at 01:05 and 03:25, a portal at 04:30, the other fails validation at 07:50; the index
    # catches up with the last good portal at 08:05. Before that, every poke says "waiting".
    events = [
        (65, lambda: validated(lake, "social", "insta", d1)),
        (205, lambda: skipped(lake, "social", "pins", d1)),  # rate-limited: finished, nothing to wait for
        (270, lambda: validated(lake, "portal", "shop1", d1)),
        (470, lambda: lake.write_bytes(quarantine_prefix("portal", "shop2", d1) + MANIFEST, b"x")),
        (485, lambda: indexed(lake, d1, ["shop1"])),
    ]
    (ranked,) = night(lake, d1, events)
    at, state = ranked
    assert at == "08:10" and state["reason"] == "complete" and state["late"] == []
    assert state["in"] == ["insta", "shop1"] and state["skipped"] == ["pins"] and state["failed"] == ["shop2"]
    assert "never" not in state["states"]
    # Night 2: shop2 never reports; the date is ranked once, at the 10:00 cut-off, with shop2 late.
    events = [(60, lambda: validated(lake, "social", "insta", d2)), (90, lambda: validated(lake, "social", "pins", d2)),
              (300, lambda: validated(lake, "portal", "shop1", d2)),
              (310, lambda: indexed(lake, d2, ["shop1"]))]  # fmt: skip
    (ranked,) = night(lake, d2, events)
    at, state = ranked
    assert at == "10:00" and state["reason"] == "cut-off" and state["late"] == ["shop2"]
    notes = readiness_notes(state)
    assert len(notes) == 1 and "shop2 was late" in notes[0]


def test_a_validated_portal_waits_for_the_catalog_index_and_states_read_the_lake(tmp_path):
    lake = LocalLake(tmp_path)
    dt, now = "2026-11-05", datetime(2026, 11, 5, 5, tzinfo=UTC)
    for name in ("insta", "pins"):
        validated(lake, "social", name, dt)
    validated(lake, "portal", "shop1", dt)
    waiting = readiness(lake, dt, ENABLED, now, 10.0, awaited=["insta", "pins", "shop1"])
    assert not waiting["ready"] and waiting["unindexed"] == ["shop1"] and waiting["late"] == []
    indexed(lake, dt, ["shop1"])
    assert readiness(lake, dt, ENABLED, now, 10.0, awaited=["insta", "pins", "shop1"])["ready"]
    skipped(lake, "portal", "shop2", dt, "blocked-by-site")
    lake.write_bytes(batch_prefix("social", "never", dt) + MANIFEST, b"crawled, validation still running")
    assert source_state(lake, "portal", "shop2", dt) == "failed"
    assert source_state(lake, "social", "never", dt) == "pending"
    assert source_state(lake, "social", "nobody", dt) == "missing"
    validated(lake, "social", "bad", dt, ok=False)
    assert source_state(lake, "social", "bad", dt) == "failed"
