"""The thin layer between Airflow and the stages: Assets, default args, the run's date and credentials.

Only DAG files and this module import Airflow; stage functions take and return plain values.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from typing import Any

from airflow.sdk import Asset

log = logging.getLogger(__name__)

CATALOG_BATCHES = Asset(name="fti_catalog_batches", uri="fti://lake/batches/kind=portal")
SOCIAL_BATCHES = Asset(name="fti_social_batches", uri="fti://lake/batches/kind=social")
CATALOG_INDEX = Asset(name="fti_catalog_index", uri="fti://milvus/catalog")
WINNING_DESIGNS = Asset(name="fti_winning_designs", uri="fti://lake/reports/latest")
LABELLED_DATA = Asset(name="fti_labelled_data", uri="fti://lake/labels")  # new labelled pairs -> train_embedder
EMBEDDING_MODEL = Asset(name="fti_embedding_model", uri="fti://lake/models/champion")  # promotion -> reindex
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"  # the ``date`` Param of every DAG (run_date also checks it is a real date)
MILVUS_POOL = "fti_milvus"  # one slot: every task touching Milvus (Milvus Lite allows one process per .db file)


def reindex_pool(settings: Any = None) -> str:
    """The pool of a re-index: the one-slot ``fti_milvus`` pool on Milvus Lite (one process per file), Airflow's
    ``default_pool`` on a Milvus server (a re-index there builds a new collection beside the one in service, so
    the nightly ranking need not wait behind it)."""
    from include.core.settings import get_settings

    settings = settings or get_settings()
    try:
        uri = settings.resolved_milvus_uri()
    except ValueError:  # an S3 lake without a URI: the task itself says so when it runs
        return MILVUS_POOL
    return MILVUS_POOL if "://" not in uri else "default_pool"


def batches_asset(kind: str) -> Asset:
    """The Asset a validated batch of ``kind`` (portal | social) updates."""
    return CATALOG_BATCHES if kind == "portal" else SOCIAL_BATCHES


def alert_webhook() -> tuple[str | None, dict[str, str]]:
    """Webhook URL and headers of the Airflow connection ``FTI_ALERTS_CONN_ID`` (``fti_alerts``), if it exists."""
    from airflow.sdk import Connection

    from include.core.settings import get_settings
    from include.ops.notify import webhook_from_connection

    try:
        conn = Connection.get(get_settings().alerts_conn_id)
    except Exception:  # no such connection: alerts are logged only
        return None, {}
    return webhook_from_connection(conn.host, conn.schema, conn.port, conn.password, conn.extra_dejson or {})


def on_failure(context: dict[str, Any]) -> None:
    """``on_failure_callback`` of every task: log the alert and post it to the ``fti_alerts`` webhook."""
    from include.ops.notify import alert_from_context, notify

    try:
        url, headers = alert_webhook()
    except Exception as exc:  # an alerting problem must never hide the task's own failure
        log.warning("alert webhook lookup failed: %s", exc)
        url, headers = None, {}
    notify(alert_from_context(context), url, headers)


def default_args() -> dict[str, Any]:
    """Task defaults: owner, retries (>= 2) with exponential backoff from ``FTI_RETRY_DELAY_SECONDS``, and the
    failure notifier (:func:`on_failure`)."""
    from include.core.settings import get_settings

    settings = get_settings()
    return {
        "owner": "fti-data",
        "retries": settings.retries,
        "retry_delay": timedelta(seconds=settings.retry_delay_seconds),
        "retry_exponential_backoff": True,
        "on_failure_callback": on_failure,
    }


DEFAULT_ARGS = default_args()


def run_date(context: dict[str, Any]) -> str:
    """The partition (``YYYY-MM-DD``) a task works on, checked (:func:`include.core.partition.check_dt`).

    Order: the ``date`` param of a manual run, the logical date, the newest ``dt`` carried by the triggering
    Asset events (asset-triggered runs have no logical date), then the day the run was due. A ``date`` param
    or an Asset event's ``dt`` that is not a real date fails the task before anything is touched.
    """
    from include.core.partition import check_dt

    params = context.get("params") or {}
    if params.get("date"):
        return check_dt(params["date"])
    logical = context.get("logical_date")
    if logical is not None:
        return check_dt(logical)
    dates = [
        check_dt(event.extra["dt"])
        for events in (context.get("triggering_asset_events") or {}).values()
        for event in events
        if getattr(event, "extra", None) and event.extra.get("dt")
    ]
    if dates:
        return max(dates)
    dag_run = context.get("dag_run")
    return check_dt(dag_run.run_after)


def end_crawls() -> None:
    """``on_kill`` of a crawl task (marked failed, timed out, SIGTERM): kill the crawl process groups it started.

    Airflow's task runner calls ``on_kill`` on SIGTERM and on ``execution_timeout`` but does not stop the task's
    children, and the crawl runs in its own process group (:mod:`crawlers.lifetime`), so this is what ends it.
    """
    from crawlers.lifetime import kill_running_crawls

    log.warning("crawl task killed: %d crawl process group(s) ended", kill_running_crawls())


def token_env(conn_id: str | None) -> dict[str, str]:
    """``FTI_TOKEN_<CONN_ID>`` (password, or extra ``token``) and ``FTI_USER_<CONN_ID>`` (login, or extra
    ``user_id``: the Instagram account id) from the Airflow connection, when that connection exists."""
    if not conn_id:
        return {}
    from airflow.sdk import Connection

    try:
        conn = Connection.get(conn_id)
    except Exception:  # no such connection: the spider skips the source with a clear message
        log.info("no Airflow connection %s", conn_id)
        return {}
    token = conn.password or (conn.extra_dejson or {}).get("token")
    env = {f"FTI_TOKEN_{conn_id.upper()}": token} if token else {}
    user = conn.login or (conn.extra_dejson or {}).get("user_id")  # the Instagram professional account id
    if user:
        env[f"FTI_USER_{conn_id.upper()}"] = str(user)
    return env


def use_aws_connection() -> None:
    """Give this task (and the processes it starts) the S3 credentials of the Airflow connection.

    Applies when the lake is on S3 and the connection ``FTI_AWS_CONN_ID`` (default ``aws_default``) exists: its
    login/password become ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` and its extra ``endpoint_url`` and
    ``region_name`` the endpoint and region, unless the environment already sets them (the standard AWS
    credential chain wins).
    """
    from airflow.sdk import Connection

    from include.core.settings import get_settings

    settings = get_settings()
    if not settings.lake.startswith("s3://"):
        return
    try:
        conn = Connection.get(settings.aws_conn_id)
    except Exception:  # no such connection: boto3's standard chain applies
        return
    extra = conn.extra_dejson or {}
    if conn.login and conn.password and "AWS_ACCESS_KEY_ID" not in os.environ:
        os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"] = conn.login, conn.password
    if extra.get("region_name"):
        os.environ.setdefault("AWS_DEFAULT_REGION", extra["region_name"])
    if extra.get("endpoint_url") and not settings.s3_endpoint_url:
        os.environ["FTI_S3_ENDPOINT_URL"] = extra["endpoint_url"]
        get_settings.cache_clear()
    log.info("S3 credentials from Airflow connection %s", settings.aws_conn_id)
