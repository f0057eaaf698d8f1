"""
### Rank and publish winning designs — `rank_trends`

Runs when both the catalog index and the social batches have been updated (Assets `fti_catalog_index` and
`fti_social_batches`). Social images of the date are embedded and matched to their nearest catalog products in
Milvus; each post votes for the designs it matches (similarity above the threshold, recency, likes, normalised
per source), near-duplicate catalog images across portals become one design with several offers, and the
designs get a `current` score (street-style sources) and an `upcoming` score (fashion-week sources), a momentum
against the previous runs (new / rising / steady / falling), a theme (clusters of the matched images) and their
dominant colours. See docs/reports.md.

Writes `lake/reports/dt=<date>/<run_id>/` (`winning_designs.parquet`, `.csv`, `.json`, `themes.parquet`,
`report.html`, `manifest.json` with checksums and inputs) and `lake/history/winning_designs/dt=<date>/`, verifies
them, then switches `lake/reports/latest.json` with a conditional write — readers never see a half-written report,
and a failed run leaves `latest.json` on the last good one. Rerunning a date with the same inputs rewrites
byte-identical tables. Updates the Asset `fti_winning_designs`.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Metadata, Param, dag, task

from include.ops.airflow_support import (
    CATALOG_INDEX,
    DATE_PATTERN,
    DEFAULT_ARGS,
    SOCIAL_BATCHES,
    WINNING_DESIGNS,
    run_date,
    use_aws_connection,
)


@dag(
    doc_md=__doc__,
    schedule=(CATALOG_INDEX & SOCIAL_BATCHES),
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
    @task(outlets=[WINNING_DESIGNS], pool="fti_milvus")
    def rank_and_publish(**context):
        from include.ops.stages import rank_and_publish as run

        use_aws_connection()
        result = run(run_date(context))
        yield Metadata(WINNING_DESIGNS, extra={"dt": run_date(context), "run_id": result["run_id"]})
        return result

    rank_and_publish()


rank_trends()
