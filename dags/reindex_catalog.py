"""
### Re-index the catalog for a new model — `reindex_catalog`

Runs when the training stage promotes a new champion embedding model (Asset `fti_embedding_model`). Builds the
champion's own collection `catalog_<version>` beside the one in service (resuming a partial build), embeds the
whole live catalog into it, and checks it: its row count must equal the catalog's (minus undecodable images) and
its recall@10 against exact search on a fixed sample must reach `FTI_REINDEX_MIN_RECALL` (0.99). Only then does
the alias `FTI_COLLECTION` (`catalog`) move to it, in one call: readers (`rank_trends`) keep searching the old
collection, with the old model, until that moment. A failed check fails the task and leaves the alias where it
was. The previous `FTI_INDEX_KEEP_VERSIONS` collections are kept for `fti index rollback`; older ones are dropped.

Writes: Milvus, in the pool `fti_milvus` (one slot) on Milvus Lite, in `default_pool` on a server (the ranking
does not wait behind it). Updates the Asset `fti_catalog_index`. `fti index status`
shows the collection in service, its index settings and the versions kept.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Metadata, dag, task

from include.ops.airflow_support import CATALOG_INDEX, DEFAULT_ARGS, EMBEDDING_MODEL, reindex_pool, use_aws_connection


@dag(
    doc_md=__doc__,
    schedule=[EMBEDDING_MODEL],
    start_date=datetime(2026, 11, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["fti", "embed", "model"],
)
def reindex_catalog():
    @task(outlets=[CATALOG_INDEX], pool=reindex_pool())
    def reindex():
        from embedding.reindex import reindex_catalog as run

        use_aws_connection()
        result = run()
        yield Metadata(CATALOG_INDEX, extra={"collection": result["collection"], "model": result["model_version"]})
        return result

    reindex()


reindex_catalog()
