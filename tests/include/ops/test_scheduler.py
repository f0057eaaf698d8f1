"""The scheduler, for real: ``airflow standalone`` runs the Asset chain by itself after the crawls of one logical
date are triggered through the REST API, then stops on SIGINT with no process left behind.

Shares the package-scoped ``stack`` (tests/include/ops/conftest.py) with the browser test; the last test here stops it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.slow


def test_triggered_crawls_run_the_asset_chain_to_a_published_report(stack):
    runs = stack.runs
    for dag_id in stack.crawls:  # exactly the manual run: no second, scheduled crawl of the same slot
        assert [(r["run_type"], r["state"]) for r in runs[dag_id]] == [("manual", "success")], (dag_id, runs[dag_id])
        assert runs[dag_id][0]["logical_date"].startswith(stack.dt)
    assert runs["embed_catalog"], "embed_catalog never ran"  # nobody triggered it: the Asset did
    assert {r["run_type"] for r in runs["embed_catalog"]} == {"asset_triggered"}, runs["embed_catalog"]
    assert all(r["state"] == "success" for r in runs["embed_catalog"]), runs["embed_catalog"]
    # One ranking for the date, started with the crawls: its sensor waited until the last input was in the lake.
    assert len(runs["rank_trends"]) == 1, runs["rank_trends"]
    ranked = []
    for run in runs["rank_trends"]:
        assert run["state"] == "success" and run["logical_date"].startswith(stack.dt), run
        tasks = {t["task_id"]: t for t in stack.af.api.get(
            f"/dags/rank_trends/dagRuns/{run['dag_run_id']}/taskInstances")["task_instances"]}  # fmt: skip
        if tasks["rank_and_publish"]["state"] == "success":
            ranked.append((run, tasks))
        else:
            assert tasks["rank_and_publish"]["state"] == "skipped", tasks
    assert len(ranked) == 1, runs["rank_trends"]
    rank, tis = ranked[0]
    assert rank["run_type"] == "manual", rank
    last_input = max(r["end_date"] for d in stack.crawls for r in runs[d])
    first_embed = min(r["end_date"] for r in runs["embed_catalog"])
    assert tis["rank_and_publish"]["start_date"] >= max(last_input, first_embed), (tis, last_input, first_embed)
    assert "readiness" in _task_log(stack, "rank_trends", "wait_for_inputs")  # who is in / late, in the task log

    latest = json.loads((stack.lake / "reports/latest.json").read_text())  # rank -> publish
    assert latest["dt"] == stack.dt
    manifest = json.loads((stack.lake / latest["report"]).with_name("manifest.json").read_text())
    assert manifest["inputs"]["readiness"]["reason"] == "complete" and manifest["inputs"]["readiness"]["late"] == []
    assert (stack.lake / latest["report"]).stat().st_size > 1000
    assert latest["rows"] > 0

    # Which run did each Asset event start? crawl.validate -> embed_catalog -> rank_trends -> winning designs.
    events = stack.af.api.get("/assets/events?limit=200")["asset_events"]
    started = {(e["name"], e["source_dag_id"], r["dag_id"]) for e in events for r in e["created_dagruns"]}
    for dag_id in stack.crawls:
        asset = "fti_catalog_batches" if ("boutique" in dag_id or "outlet" in dag_id) else "fti_social_batches"
        assert any(e["name"] == asset and e["source_dag_id"] == dag_id and e["source_task_id"] == "validate"
                   and (e["extra"] or {}).get("dt") == stack.dt for e in events), (dag_id, asset)  # fmt: skip
    assert ("fti_catalog_batches", "embed_catalog") in {(a, d) for a, _, d in started}
    assert not any(d == "rank_trends" for _, _, d in started)  # Asset events do not start the ranking
    published = [e for e in events if e["name"] == "fti_winning_designs"]
    assert published and all(e["source_dag_id"] == "rank_trends" for e in published)
    assert any((e["extra"] or {}).get("run_id") == latest["run_id"] for e in published)


def _task_log(stack, dag_id: str, task_id: str) -> str:
    """Text of the last attempt of a task of the DAG's first successful run (the files the UI shows)."""
    first = sorted(stack.runs[dag_id], key=lambda r: r["run_type"] != "manual")  # rank_trends: the run that ranked
    run = next(r for r in first if r["state"] == "success")
    folder = stack.home / "logs" / f"dag_id={dag_id}" / f"run_id={run['dag_run_id']}" / f"task_id={task_id}"
    attempts = sorted(folder.glob("attempt=*.log"), key=lambda p: int(re.findall(r"\d+", p.name)[0]))
    assert attempts, f"no log under {folder}"
    return attempts[-1].read_text()


@pytest.mark.parametrize(
    ("dag_id", "task_id", "counts"),
    [
        ("crawl_demo_boutique", "crawl", ["rows", "items", "images_stored"]),
        ("crawl_demo_boutique", "validate", ["rows"]),
        ("crawl_demo_instagram_streetstyle", "validate", ["rows"]),
        ("embed_catalog", "embed", ["vectors"]),
        ("rank_trends", "rank_and_publish", ["posts", "rows"]),
    ],
)
def test_task_logs_carry_the_counts_of_each_stage(stack, dag_id, task_id, counts):
    text = _task_log(stack, dag_id, task_id)
    for name in counts:
        assert re.search(rf"['\"]{name}['\"]\s*:\s*\d+", text), f"{dag_id}.{task_id} log lacks a count {name!r}"


def test_fti_status_shows_what_the_scheduler_produced(stack):
    env = {**os.environ, "FTI_LAKE": str(stack.lake), "PYTHONPATH": str(stack.af.env["PYTHONPATH"])}
    proc = subprocess.run([sys.executable, "-m", "include.ops.cli", "status", "--json"], env=env, capture_output=True,
                          text=True, timeout=180)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    status = json.loads(proc.stdout[proc.stdout.index("{") :])
    batches = {b["source"]: b for b in status["batches"]}
    for dag_id in stack.crawls:
        source = dag_id.removeprefix("crawl_")
        assert batches[source]["dt"] == stack.dt and batches[source]["state"] == "validated", batches.get(source)
        assert batches[source]["rows"] > 0
    assert status["latest_report"]["dt"] == stack.dt and status["latest_report"]["fresh"] is True
    alias = status["alias"]
    assert alias["live"].startswith(f"{alias['alias']}_"), alias  # the alias serves a versioned collection
    if alias["recorded"]:
        assert alias["live"] == alias["recorded"]


def test_the_freshness_dag_runs_on_its_own_schedule(stack):
    stack.af.api.unpause("fti_freshness")  # hourly, catchup=False: the scheduler creates the current hour's run
    deadline = time.monotonic() + 90
    runs: list[dict] = []
    while time.monotonic() < deadline:
        runs = stack.af.api.runs("fti_freshness")
        if runs and runs[0]["state"] in ("success", "failed"):
            break
        time.sleep(2)
    assert runs and runs[0]["run_type"] == "scheduled", runs
    assert runs[0]["state"] == "success", runs  # the report published minutes ago is fresh


def test_a_backfill_replays_a_live_source_from_its_stored_batch_and_crawls_nothing(stack):
    api = stack.af.api
    before = {d: [r["dag_run_id"] for r in api.runs(d)] for d in ("crawl_demo_outlet", "crawl_demo_boutique")}
    api.unpause("fti_backfill")
    conf = {"start": stack.dt, "end": stack.dt, "sources": ["demo_outlet"]}  # demo_outlet: replayable: false
    run_id = api.post("/dags/fti_backfill/dagRuns", {"logical_date": None, "conf": conf})["dag_run_id"]
    deadline = time.monotonic() + 400
    while time.monotonic() < deadline:
        state = api.get(f"/dags/fti_backfill/dagRuns/{run_id}")["state"]
        if state in ("success", "failed"):
            break
        time.sleep(2)
    assert state == "success"
    tis = {t["task_id"]: t for t in api.get(f"/dags/fti_backfill/dagRuns/{run_id}/taskInstances")["task_instances"]}
    assert tis["replay"]["state"] == "success"
    for dag_id, ids in before.items():  # a live source is never re-crawled for a past date
        assert [r["dag_run_id"] for r in api.runs(dag_id)] == ids


def test_sigint_stops_airflow_with_no_process_left_behind(stack):
    pid = stack.af.proc.pid
    before = stack.af.processes()
    assert len(before) >= 5  # standalone + scheduler, dag-processor, triggerer, api-server
    leftovers = stack.stop()
    assert leftovers == [], f"processes outlived SIGINT: {leftovers}"
    assert stack.timings["stop"] < 60
    assert not any(p.is_running() and p.status() != "zombie" for p in before)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
