"""
### Retrain the embedding model — `train_embedder`

Runs when new labelled data lands (Asset `fti_labelled_data`: pairs files under `lake/labels/pairs/`, or
whatever the training config `FTI_TRAIN_CONFIG` names). `plan` fingerprints the labelled data and **skips the
run in seconds** when it is unchanged since the champion was trained (or a candidate already lost the gate on
exactly this data). Otherwise `train` fine-tunes the triplet embedding model (timm backbone, default
`tf_efficientnet_lite0`), evaluates it and the champion on the same validation split (consumer-to-shop
Recall@1), stores it under `lake/models/<version>/` and promotes it only if it wins. `publish` then updates the
Asset `fti_embedding_model`, which re-embeds the catalog; when the candidate lost, `publish` is skipped and no
event is emitted.

Reads: labelled data, `lake/models/champion.json`. Writes: `lake/models/<version>/`, `models/champion.json`
(atomic switch), `models/attempts/<fingerprint>.json`. Trigger with `force=true` to retrain regardless.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Metadata, Param, dag, task

from include.ops.airflow_support import DEFAULT_ARGS, EMBEDDING_MODEL, LABELLED_DATA, use_aws_connection


@dag(
    doc_md=__doc__,
    schedule=[LABELLED_DATA],
    start_date=datetime(2026, 11, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["fti", "training"],
    params={"force": Param(False, type="boolean", description="Train even if the labelled data is unchanged")},
)
def train_embedder():
    @task
    def plan(**context):
        from airflow.sdk.exceptions import AirflowSkipException

        from training.pipeline import plan_training

        use_aws_connection()
        result = plan_training(force=bool(context["params"].get("force")))
        if result["skip"]:
            raise AirflowSkipException(result["reason"])
        return result

    @task
    def train(planned: dict):
        from training.pipeline import train_and_gate

        use_aws_connection()
        result = train_and_gate(planned.get("config"))
        return {k: result[k] for k in ("version", "promoted", "reason", "incumbent", "data_fingerprint")} | {
            "recall@1": result["metrics"]["recall@1"],
            "incumbent_recall@1": result["incumbent_metrics"]["recall@1"],
        }

    @task(outlets=[EMBEDDING_MODEL])
    def publish(result: dict):
        from airflow.sdk.exceptions import AirflowSkipException

        if not result["promoted"]:
            raise AirflowSkipException(f"not promoted: {result['reason']}")
        yield Metadata(EMBEDDING_MODEL, extra={"version": result["version"], "recall@1": result["recall@1"]})
        return result

    publish(train(plan()))


train_embedder()
