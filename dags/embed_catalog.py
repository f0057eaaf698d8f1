"""
### Embed the catalog — `embed_catalog`

Runs when a portal batch is validated (Asset `fti_catalog_batches`). Brings the Milvus collection *in service*
(the one the alias `FTI_COLLECTION`, default `catalog`, points at) up to the live catalog of the date: every
image of each portal's last `FTI_TOMBSTONE_AFTER_CRAWLS` validated crawls that has no vector yet is embedded with
that collection's model version (the promoted champion, or the offline-pretrained `FTI_MODEL_NAME` backbone) by a
DataLoader whose workers decode images, and upserted keyed by its sha256; images gone from their portal for that
many crawls are deleted. Reruns embed nothing twice. On a fresh install the first collection and the alias are
created here.

Reads: validated `lake/batches/kind=portal/*/dt=*/`. Writes: Milvus (`FTI_MILVUS_URI`, default a Milvus Lite file
in the lake) in the pool `fti_milvus` (one slot: Milvus Lite allows one process per file). Updates the Asset
`fti_catalog_index`. Rerun a date with the `date` param. A new champion model is indexed by `reindex_catalog`.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Metadata, Param, dag, task

from include.ops.airflow_support import (
    CATALOG_BATCHES,
    CATALOG_INDEX,
    DATE_PATTERN,
    DEFAULT_ARGS,
    MILVUS_POOL,
    run_date,
    use_aws_connection,
)


@dag(
    doc_md=__doc__,
    schedule=[CATALOG_BATCHES],
    start_date=datetime(2026, 11, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["fti", "embed"],
    params={
        "date": Param(
            None, type=["null", "string"], format="date", pattern=DATE_PATTERN, description="Partition to embed"
        )
    },
)
def embed_catalog():
    @task(outlets=[CATALOG_INDEX], pool=MILVUS_POOL)
    def embed(**context):
        from embedding.catalog import embed_catalog as run

        use_aws_connection()
        counts = run(run_date(context))
        yield Metadata(
            CATALOG_INDEX, extra={"dt": counts["dt"], "vectors": counts["vectors"], "collection": counts["collection"]}
        )
        return counts

    embed()


embed_catalog()
