"""
### Embed the catalog — `embed_catalog`

Runs when a portal batch is validated (Asset `fti_catalog_batches`). Every catalog image of the date that has
no vector yet is embedded with the configured timm backbone (`FTI_MODEL_NAME`, default
`tf_efficientnet_lite0` with offline ImageNet weights) and upserted into the Milvus collection `FTI_COLLECTION`
keyed by the image's sha256, with its product metadata. Reruns embed nothing twice.

Reads: validated `lake/batches/kind=portal/*/dt=<date>/`. Writes: Milvus (`FTI_MILVUS_URI`, default a Milvus
Lite file in the lake). Updates the Asset `fti_catalog_index`. Rerun a date with the `date` param.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Metadata, Param, dag, task

from include.airflow_support import CATALOG_BATCHES, CATALOG_INDEX, DEFAULT_ARGS, run_date, use_aws_connection


@dag(
    doc_md=__doc__,
    schedule=[CATALOG_BATCHES],
    start_date=datetime(2026, 11, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["fti", "embed"],
    params={"date": Param(None, type=["null", "string"], format="date", description="Partition to embed")},
)
def embed_catalog():
    @task(outlets=[CATALOG_INDEX])
    def embed(**context):
        from embedding.catalog import embed_catalog as run

        use_aws_connection()
        counts = run(run_date(context))
        yield Metadata(CATALOG_INDEX, extra={"dt": counts["dt"], "vectors": counts["collection"]})
        return counts

    embed()


embed_catalog()
