"""
### Designers' feedback to labelled data — `fti_feedback`

Manual (or REST: `POST /api/v2/dags/fti_feedback/dagRuns` with `{"conf": {"file": "feedback/inbox/x.csv"}}`).
`file` is the lake key (or URI inside the lake) of a feedback file a designer filled in: one row per match they
judged, with the columns `dt`, `design_id`, `post` (the evidence post's `post_url` or `image_key`), `verdict`
(`right` | `wrong`) and optionally `designer`.

**ingest** checks every row against the published report of its date, then writes the verdicts to
`labels/feedback/dt=<d>/`, each *right* match as a consumer/shop pair to `labels/pairs/feedback-<hash>.parquet`
(what `train_embedder` trains on) and each *wrong* one to `labels/negatives/`. It updates the Asset
`fti_labelled_data`, which schedules `train_embedder`. A bad file fails the task with the file, row and reason,
and writes nothing; ingesting the same file twice writes the same files. See `include/ops/feedback.py`.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Metadata, Param, dag, task

from include.ops.airflow_support import DEFAULT_ARGS, LABELLED_DATA, use_aws_connection


@dag(
    doc_md=__doc__,
    schedule=None,
    start_date=datetime(2026, 11, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["fti", "training", "feedback"],
    params={"file": Param(type="string", description="Lake key of the feedback file (CSV or JSON records)")},
)
def fti_feedback():
    @task(outlets=[LABELLED_DATA])
    def ingest(**context):
        from include.core.lake import open_lake
        from include.ops.feedback import ingest_feedback

        use_aws_connection()
        lake = open_lake()
        ref = str(context["params"]["file"])
        key = lake.key_of(ref) if "://" in ref or ref.startswith("/") else ref
        result = ingest_feedback(lake, key)
        print(f"feedback {key}: {result}")
        yield Metadata(LABELLED_DATA, extra={"file": key, "pairs": result["pairs"], "negatives": result["negatives"]})
        return result

    ingest()


fti_feedback()
