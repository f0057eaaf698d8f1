"""
### Rerun or backfill dates — `fti_backfill`

Manual only. For the dates `start` … `end` (inclusive; `end` defaults to `start`, at most 92 dates) and the
`sources` listed (empty: every enabled source):

* **crawl_runs** / **trigger_crawl**: a `crawl_<source>` run with its `date` param, only for sources declared
  `replayable: true` in `include/core/sources.yaml` (their site can serve a past date), awaited.
* **replay** (one mapped task per date, in the `fti_milvus` pool): re-validates the stored batches of every other
  source of that date, embeds the catalog (when the date is the newest catalog crawl), ranks and publishes — it
  never re-crawls a live source (Instagram `recent_media` is the last 24 h, Pinterest search has no date filter,
  shops show today's prices), so a backfilled date never gets today's content. Its XCom lists the sources
  validated, failed, skipped and missing (no stored batch for the date).

A date's report is replaced, never duplicated, and a backfill of an older date never moves `reports/latest.json`
back. Reads: `include/core/sources.yaml` and the lake's batches. Writes: the date's report and history.
"""

from __future__ import annotations

from datetime import datetime

from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import Param, dag, task

from include.ops.airflow_support import DEFAULT_ARGS, MILVUS_POOL, use_aws_connection


@dag(
    doc_md=__doc__,
    schedule=None,
    start_date=datetime(2026, 11, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["fti", "ops", "backfill"],
    params={
        "start": Param(type="string", format="date", description="First date to redo (YYYY-MM-DD)"),
        "end": Param(None, type=["null", "string"], format="date", description="Last date (default: start)"),
        "sources": Param([], type="array", items={"type": "string"}, description="Source names (empty: all)"),
    },
)
def fti_backfill():
    def _registry():
        from include.core.sources import load_registry

        enabled = [s for s in load_registry().sources if s.enabled]
        return [s.name for s in enabled], [s.name for s in enabled if s.replayable]

    @task
    def crawl_runs(**context) -> list[dict]:
        from include.ops.backfill import backfill_plan

        params = context["params"]
        known, replayable = _registry()
        runs = backfill_plan(params["start"], params.get("end"), params.get("sources"), known, replayable)
        print(f"backfill: {len(runs)} crawl runs of replayable sources {replayable}")
        return runs

    @task
    def replay_dates(**context) -> list[dict]:
        from include.ops.backfill import replay_plan

        params = context["params"]
        known, replayable = _registry()
        plan = replay_plan(params["start"], params.get("end"), params.get("sources"), known, replayable)
        print(f"backfill: replaying {len(plan)} dates from stored batches (no crawl) of {plan[0]['sources']}")
        return plan

    crawls = TriggerDagRunOperator.partial(
        task_id="trigger_crawl", wait_for_completion=True, poke_interval=30
    ).expand_kwargs(crawl_runs())

    @task(pool=MILVUS_POOL, trigger_rule="none_failed", max_active_tis_per_dag=1)
    def replay(plan: dict) -> dict:
        from include.ops.replay import replay_date

        use_aws_connection()
        result = replay_date(plan["dt"], plan["sources"])
        published = result.pop("published")
        print(f"replay {plan['dt']}: {result}; published {published.get('run_id')}")
        return {**result, "run_id": published.get("run_id"), "report": published.get("report")}

    crawls >> replay.expand(plan=replay_dates())


fti_backfill()
