"""
### Crawl one source — `crawl_<source>`

One DAG per source in `include/core/sources.yaml` (generated from the registry; a source is configuration).

* **crawl** runs the source's Scrapy spider in its own process. Images go to `lake/images/`, the batch
  manifest and crawl health to `lake/batches/kind=<kind>/source=<source>/dt=<date>/`.
* **validate** runs the Great Expectations checkpoint over the manifest. A failing batch is moved to
  `lake/quarantine/…`, the task fails, and nothing from it is embedded.
* A validated batch updates the Asset `fti_catalog_batches` (portals) or `fti_social_batches` (social), which
  schedules `embed_catalog` and `rank_trends`.

A social source without credentials (or rate-limited by its API before it got anything) is skipped: the crawl
logs why, `validate` ends *skipped* with that reason and no Asset event is sent. A source whose site answers
with a bot wall is stopped after 20 refusals in a row; `validate` then **fails** with one plain line, e.g.
`asos: blocked by the site after 40 requests; nothing stored; last good batch 2026-11-29`.

**Rerun / backfill a date:** trigger with the `date` param (or clear the run of that logical date): the batch of
that date is replaced, never duplicated. A range of dates: `fti_backfill`. `max_items` caps a trial crawl.
Credentials of API sources come from the Airflow connection named by the source's `conn_id` (token in the
password field).

**Stopping a crawl:** marking the task failed, its timeout, or killing the worker ends the crawl process too (the
task's `on_kill`; the crawl also dies with its parent); a second crawl of the same source and date waits for the
first, then fails. A `date` that is not a real `YYYY-MM-DD` is refused before anything is touched. A write that
fails (read-only or full lake) fails the task with the reason in one line; the previous batch stays.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Metadata, Param, dag, task

from include.core.sources import Source, load_registry
from include.ops.airflow_support import (
    DATE_PATTERN,
    DEFAULT_ARGS,
    batches_asset,
    end_crawls,
    run_date,
    token_env,
    use_aws_connection,
)


def build(source: Source):
    """The ``crawl_<source>`` DAG of one registry entry."""
    asset = batches_asset(source.kind)

    @dag(
        dag_id=f"crawl_{source.name}",
        doc_md=__doc__,
        schedule=source.schedule,
        start_date=datetime(2026, 11, 1),
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["fti", "crawl", source.kind] + ([source.horizon] if source.horizon else []),
        params={
            "date": Param(
                None, type=["null", "string"], format="date", pattern=DATE_PATTERN, description="Partition to crawl"
            ),
            "max_items": Param(
                None, type=["null", "integer"], minimum=1, description="Scale: stop after this many items (a test run)"
            ),
        },
    )
    def crawl_dag():
        @task(task_display_name=f"crawl {source.name}")
        def crawl(**context) -> dict:
            from crawlers.crawl import crawl_source

            use_aws_connection()
            env = token_env(source.args.get("conn_id"))
            if context["params"].get("max_items"):
                env["FTI_MAX_ITEMS_PER_CRAWL"] = str(context["params"]["max_items"])
            return crawl_source(source.name, run_date(context), env=env)

        @task(outlets=[asset])
        def validate(summary: dict, **context):
            from include.ops.stages import validate_source

            use_aws_connection()
            result = validate_source(source.name, summary["dt"])
            if result.get("skipped"):  # e.g. no credentials: no Asset event, so nothing downstream runs for it
                from airflow.sdk.exceptions import AirflowSkipException

                why = result.get("status") or f"{source.name} skipped by its crawl: {result['skipped']}"
                raise AirflowSkipException(why)
            yield Metadata(asset, extra={"dt": result["dt"], "source": source.name, "rows": result["rows"]})
            return result

        summary = crawl()
        summary.operator.on_kill = end_crawls  # marked failed / timed out: the crawl process group dies too
        validate(summary)

    return crawl_dag()


for _source in load_registry().sources:
    if _source.enabled:
        build(_source)
