"""The DAG folder as Airflow's DagBag loads it: no import errors, and every DAG is operable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from include.core.sources import load_registry

DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}


def test_every_source_and_stage_has_a_dag(dagbag):
    expected = {f"crawl_{s.name}" for s in load_registry().sources if s.enabled} | {
        "embed_catalog",
        "rank_trends",
    }
    assert expected <= set(dagbag.dag_ids)


def test_dags_are_documented_tagged_and_retried(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, dag_id
        assert dag.doc_md and len(dag.doc_md) > 200, dag_id
        assert dag.catchup is False, dag_id
        assert dag.owner == "fti-data", dag_id
        for task in dag.tasks:
            assert task.retries >= 2, f"{dag_id}.{task.task_id}"


def asset_names(condition) -> set[str]:
    """Names of the assets in a (possibly nested) schedule condition."""
    if hasattr(condition, "objects"):
        return set().union(*(asset_names(o) for o in condition.objects))
    return {condition.name}


def test_asset_chain_links_the_stages(dagbag):
    crawl = dagbag.dags["crawl_demo_boutique"]
    outlets = {a.name for t in crawl.tasks for a in t.outlets}
    assert outlets == {"fti_catalog_batches"}
    assert asset_names(dagbag.dags["embed_catalog"].timetable.asset_condition) == {"fti_catalog_batches"}
    assert "fti_catalog_index" in {a.name for t in dagbag.dags["embed_catalog"].tasks for a in t.outlets}


def test_rank_trends_runs_by_cron_and_waits_for_its_inputs(dagbag):
    """Asset events do not start the ranking: one run per night (cron) whose sensor reads the lake's readiness."""
    rank = dagbag.dags["rank_trends"]
    assert type(rank.timetable).__name__ == "CronTriggerTimetable" and rank.timetable.expression == "0 1 * * *"
    sensor, publish = rank.get_task("wait_for_inputs"), rank.get_task("rank_and_publish")
    assert sensor.mode == "reschedule" and sensor.poke_interval == 600
    assert publish.upstream_task_ids == {"wait_for_inputs"} and publish.pool == "fti_milvus"
    assert {a.name for a in publish.outlets} == {"fti_winning_designs"}


def test_parsing_imports_no_heavy_library():
    code = (
        "import sys; from airflow.dag_processing.dagbag import DagBag; "
        f"DagBag(dag_folder={str(DAGS)!r}); "
        "heavy = [m for m in ('torch', 'timm', 'pymilvus', 'scrapy', 'great_expectations', 'lightning') "
        "if m in sys.modules]; print(heavy); sys.exit(1 if heavy else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]


@pytest.mark.parametrize("bad", ["2026-13-45", "x/../../source=OTHER/dt=D", "x/../../../.."])
def test_date_param_of_every_dag_refuses_hostile_dates(dagbag, bad):
    from airflow.sdk.definitions.param import ParamValidationError

    for dag_id in ("crawl_demo_boutique", "embed_catalog", "rank_trends"):
        param = dagbag.dags[dag_id].params.get_param("date")
        with pytest.raises(ParamValidationError):
            param.resolve(bad)
        assert param.resolve("2026-11-01") == "2026-11-01" and param.resolve(None) is None


def test_crawl_tasks_end_their_crawl_process_group_on_kill(dagbag):
    from include.ops.airflow_support import end_crawls

    crawl = dagbag.dags["crawl_demo_boutique"].get_task("crawl")
    assert crawl.on_kill is end_crawls


def test_feedback_feeds_the_trainer(dagbag):
    ingest = dagbag.dags["fti_feedback"].get_task("ingest")
    assert {a.name for a in ingest.outlets} == {"fti_labelled_data"}
    assert asset_names(dagbag.dags["train_embedder"].timetable.asset_condition) == {"fti_labelled_data"}


def test_backfill_crawls_only_replayable_sources_and_replays_the_rest(dagbag):
    backfill = dagbag.dags["fti_backfill"]
    trigger, replay = backfill.get_task("trigger_crawl"), backfill.get_task("replay")
    assert trigger.partial_kwargs.get("wait_for_completion") is True or getattr(trigger, "wait_for_completion", False)
    assert replay.upstream_task_ids >= {"trigger_crawl", "replay_dates"} and replay.trigger_rule == "none_failed"
    assert replay.pool == "fti_milvus"
