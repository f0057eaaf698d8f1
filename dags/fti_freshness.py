"""
### Data freshness — `fti_freshness`

Hourly watchdog of what readers see. **measure** reads `lake/reports/latest.json` and logs the latest report's
date, run id and age (hours since `published_at`). **alert_if_stale** fails when no report was ever published or
the latest one is older than `max_age_hours` (default `FTI_FRESHNESS_MAX_HOURS`, 30 h: one missed night). Its
failure calls the notifier like any task failure: logged, and posted to the webhook of the Airflow connection
`fti_alerts` when that connection exists.

Reads: `lake/reports/latest.json` only. Writes: nothing. Fix a stale report by looking at the last runs of the
`crawl_*`, `embed_catalog` and `rank_trends` DAGs (`fti status` prints the last batch of every source), then
rerun the missing date: trigger `crawl_<source>` with the `date` param; the Asset chain does the rest.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Param, dag, task

from include.ops.airflow_support import DEFAULT_ARGS, use_aws_connection


@dag(
    doc_md=__doc__,
    schedule="@hourly",
    start_date=datetime(2026, 11, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["fti", "ops", "freshness"],
    params={
        "max_age_hours": Param(
            None, type=["null", "number"], minimum=0, description="Alert when the latest report is older (hours)"
        )
    },
)
def fti_freshness():
    @task
    def measure(**context) -> dict:
        from include.core.lake import open_lake
        from include.core.settings import get_settings
        from include.ops.status import report_freshness

        use_aws_connection()
        settings = get_settings()
        max_age = context["params"].get("max_age_hours") or settings.freshness_max_hours
        return report_freshness(open_lake(settings.lake, settings.s3_endpoint_url), float(max_age))

    @task
    def alert_if_stale(state: dict) -> dict:
        from include.ops.status import StaleReportError

        if state["dt"] is None:
            raise StaleReportError("no report was ever published (reports/latest.json is missing)")
        if not state["fresh"]:
            raise StaleReportError(
                f"latest report dt={state['dt']} is {state['age_hours']:.1f} h old (> {state['max_age_hours']:g} h)"
            )
        return state

    alert_if_stale(measure())


fti_freshness()
