"""
### Rank and publish winning designs — `rank_trends`

**Once per night, on complete inputs.** Scheduled by cron (`FTI_RANK_SCHEDULE`, default `0 1 * * *` UTC); the run
of a date first **waits for its inputs** (`wait_for_inputs`, a sensor in reschedule mode that frees its worker slot
between checks, every `FTI_READINESS_POKE_SECONDS`): it reads the lake, not Asset events, and is done when every
awaited source has a validated, skipped or failed batch for the date and the catalog index holds the date's
portal batches — or when the cut-off (`FTI_RANK_CUTOFF_HOURS` after midnight UTC, default 10:00) has passed. Its
log line and XCom say which sources are in, skipped, failed and late. Then **rank_and_publish** runs once; late
sources are named in the report's notes and in `manifest.json` (`inputs.readiness`). See docs/operations.md
(the nightly timeline) and `include/ops/readiness.py`.

Social images of the date are embedded and matched to their nearest catalog products in Milvus; each post votes
for the designs it matches (points per 1,000 posts each source showed), near-duplicate catalog images become one
design (its id kept by the design registry), with a momentum against the previous runs (only sources present in
all of them), a theme and its dominant colours. See docs/reports.md.

Writes `lake/reports/dt=<date>/<run_id>/` (`winning_designs.parquet`, `.csv`, `.json`, `themes.parquet`,
`report.html`, `manifest.json`) and `lake/history/…/dt=<date>/`, verifies them, then switches
`lake/reports/latest.json` with a conditional write. **One ranking per date:** a scheduled run of a date that was
ranked already skips `rank_and_publish`; a manual run (optionally with the `date` param) reranks (it still waits
for that date's inputs or cut-off; a past date's cut-off has passed). Updates the Asset `fti_winning_designs`.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import CronTriggerTimetable, Metadata, Param, PokeReturnValue, dag, task

from include.core.settings import get_settings
from include.ops.airflow_support import (
    DATE_PATTERN,
    DEFAULT_ARGS,
    MILVUS_POOL,
    WINNING_DESIGNS,
    run_date,
    use_aws_connection,
)

SETTINGS = get_settings()


@dag(
    doc_md=__doc__,
    schedule=CronTriggerTimetable(SETTINGS.rank_schedule, timezone="UTC") if SETTINGS.rank_schedule else None,
    start_date=datetime(2026, 11, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["fti", "rank", "publish"],
    params={
        "date": Param(
            None, type=["null", "string"], format="date", pattern=DATE_PATTERN, description="Partition to rank"
        )
    },
)
def rank_trends():
    @task.sensor(
        poke_interval=SETTINGS.readiness_poke_seconds, timeout=(SETTINGS.rank_cutoff_hours + 24) * 3600,
        mode="reschedule",
    )  # fmt: skip
    def wait_for_inputs(**context) -> PokeReturnValue:
        from include.ops.stages import check_readiness

        use_aws_connection()
        state = check_readiness(run_date(context))
        return PokeReturnValue(is_done=state["ready"], xcom_value=state)

    @task(outlets=[WINNING_DESIGNS], pool=MILVUS_POOL)
    def rank_and_publish(readiness: dict, **context):
        from include.ops.stages import rank_and_publish as run
        from include.ops.stages import ranked_already

        use_aws_connection()
        done = ranked_already(run_date(context))
        if done and context["dag_run"].run_type != "manual":  # one ranking per date; a manual run reranks
            from airflow.sdk.exceptions import AirflowSkipException

            raise AirflowSkipException(f"{run_date(context)} was ranked already ({done}); trigger it to rerank")
        result = run(run_date(context), readiness=readiness)
        yield Metadata(WINNING_DESIGNS, extra={"dt": run_date(context), "run_id": result["run_id"]})
        return result

    rank_and_publish(wait_for_inputs())


rank_trends()
