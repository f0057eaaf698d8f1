"""
### Rerun or backfill dates — `fti_backfill`

Manual only. Triggers `crawl_<source>` once per source and date, for the dates `start` … `end` (inclusive; `end`
defaults to `start`, at most 92 dates) and the `sources` listed (empty: every enabled source), each run with its
`date` param. Each validated batch then updates its Asset, so `embed_catalog` and `rank_trends` redo that date by
themselves; a date's batch is replaced, never duplicated, and a backfill of an older date never moves
`reports/latest.json` back.

Reads: `include/core/sources.yaml`. Writes: nothing itself (the triggered crawls write their batches). To redo only the
downstream stages of a date, trigger `embed_catalog` or `rank_trends` with their `date` param instead.
"""

from __future__ import annotations

from datetime import datetime

from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import Param, dag, task

from include.ops.airflow_support import DEFAULT_ARGS


@dag(
    doc_md=__doc__,
    schedule=None,
    start_date=datetime(2026, 11, 1),
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=["fti", "ops", "backfill"],
    params={
        "start": Param(type="string", format="date", description="First date to crawl again (YYYY-MM-DD)"),
        "end": Param(None, type=["null", "string"], format="date", description="Last date (default: start)"),
        "sources": Param([], type="array", items={"type": "string"}, description="Source names (empty: all)"),
    },
)
def fti_backfill():
    @task
    def plan(**context) -> list[dict]:
        from include.core.sources import load_registry
        from include.ops.backfill import backfill_plan

        params = context["params"]
        known = [s.name for s in load_registry().sources if s.enabled]
        runs = backfill_plan(params["start"], params.get("end"), params.get("sources"), known)
        print(f"backfill: {len(runs)} crawl runs")
        return runs

    TriggerDagRunOperator.partial(task_id="trigger_crawl").expand_kwargs(plan())


fti_backfill()
