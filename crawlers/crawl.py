"""Run one source's crawl — in its own process, since Twisted's reactor cannot restart.

``crawl_source()`` is what the Airflow task (or ``fti crawl``) calls: it starts ``python -m crawlers.crawl``
and returns the batch summary that the child prints as its last stdout line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from include.core.layout import batch_prefix

if TYPE_CHECKING:
    from include.core.sources import Source

SPIDERS = {
    "jsonld_product": "crawlers.spiders.jsonld_product.JsonLdProductSpider",
    "instagram_hashtag": "crawlers.spiders.instagram_hashtag.InstagramHashtagSpider",
    "pinterest_search": "crawlers.spiders.pinterest_search.PinterestSearchSpider",
    "feed_article": "crawlers.spiders.feed_article.FeedArticleSpider",
}


class CrawlError(RuntimeError):
    """The crawl process failed or reported no summary."""


def source_settings(source: Source, dt: str) -> dict[str, Any]:
    """The Scrapy settings one source's crawl of ``dt`` needs: lake, batch partition, limits, politeness."""
    from include.core.lake import open_lake
    from include.core.settings import get_settings

    settings = get_settings()
    lake = open_lake()
    values: dict[str, Any] = {
        "IMAGES_STORE": lake.uri("images") + "/",  # S3 stores join prefix and path as-is
        "FTI_LAKE": settings.lake,
        "FTI_S3_ENDPOINT_URL": settings.s3_endpoint_url,
        "FTI_SOURCE": source.name,
        "FTI_KIND": source.kind,
        "FTI_HORIZON": source.horizon,
        "FTI_BATCH_PREFIX": batch_prefix(source.kind, source.name, dt),
        "FTI_MIN_IMAGE_SIDE": settings.min_image_side,
        "CLOSESPIDER_ITEMCOUNT": settings.max_items_per_crawl,
        "FTI_MAX_BYTES": settings.max_bytes_per_crawl,
        "DOWNLOAD_MAXSIZE": settings.max_image_bytes,
        "FTI_RETRY_AFTER_MAX": settings.retry_after_max_seconds,
        "HTTPCACHE_ENABLED": settings.http_cache,
        "HTTPCACHE_DIR": os.path.abspath(settings.http_cache_dir),
        "FTI_LOOPBACK_ONLY": settings.loopback_only,
        "AWS_ENDPOINT_URL": settings.s3_endpoint_url or os.environ.get("AWS_ENDPOINT_URL"),
    }
    if source.allow_private:  # the demo web on loopback: its own hosts only, and no politeness needed
        args = source.resolved_args(settings.demo_web_url)
        own_hosts = sorted({urlparse(v).hostname for v in args.values() if isinstance(v, str) and "://" in v})
        values.update(
            {"FTI_ALLOWED_HOSTS": own_hosts, "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False,
             "CONCURRENT_REQUESTS_PER_DOMAIN": 8, "FTI_RETRY_BACKOFF_BASE": 0.1},
        )  # fmt: skip
    return values


def scrapy_settings(source_name: str, dt: str) -> tuple[Any, type, dict[str, Any]]:
    """Scrapy settings, spider class and spider kwargs for one source and date."""
    from scrapy.settings import Settings as ScrapySettings
    from scrapy.utils.misc import load_object

    from include.core.settings import get_settings
    from include.core.sources import load_registry

    source = load_registry().get(source_name)
    crawl_settings = ScrapySettings()
    crawl_settings.setmodule("crawlers.settings", priority="project")
    crawl_settings.setdict(source_settings(source, dt), priority="cmdline")
    return crawl_settings, load_object(SPIDERS[source.spider]), source.resolved_args(get_settings().demo_web_url)


def run_in_process(source_name: str, dt: str) -> dict[str, Any]:
    """Crawl in *this* process (once per process) and return the batch summary (``error`` when a write failed)."""
    from scrapy.crawler import CrawlerProcess

    from crawlers.write_errors import WRITE_ERROR

    crawl_settings, spider_cls, kwargs = scrapy_settings(source_name, dt)
    process = CrawlerProcess(crawl_settings, install_root_handler=True)
    crawler = process.create_crawler(spider_cls)
    process.crawl(crawler, **kwargs)
    process.start()
    health = crawler.stats.get_value("fti/health") or {}
    error = crawler.stats.get_value(WRITE_ERROR)
    return {
        "source": source_name,
        "dt": dt,
        "batch": crawl_settings.get("FTI_BATCH_PREFIX"),
        "rows": 0 if error else health.get("items", 0),
        "health": health,
        **({"skipped": health["source_skipped"]} if health.get("source_skipped") else {}),
        **({"error": error} if error else {}),
        "finish_reason": crawler.stats.get_value("finish_reason"),
        "elapsed_s": crawler.stats.get_value("elapsed_time_seconds"),
    }


def crawl_source(source_name: str, dt: str, env: dict[str, str] | None = None, timeout: float = 3600) -> dict:
    """Crawl one source for logical date ``dt`` in a child process that dies with this one.

    The child runs in its own process group (:mod:`crawlers.lifetime`): a timeout, an exception here, SIGTERM or
    the Airflow task's ``on_kill`` kill it, and it kills itself if this process dies. Its log streams to this
    process's stderr as it runs; the full per-URL skip list is the batch's ``skips.jsonl``.

    Args:
        source_name: A name from the source registry.
        dt: Logical date ``YYYY-MM-DD``; the batch is written (or replaced) under that partition.
        env: Extra environment for the child (API tokens as ``FTI_TOKEN_<CONN_ID>``).
        timeout: Seconds before the crawl is killed.

    Returns:
        The summary: batch prefix, row count, health counters.

    Raises:
        include.core.partition.PartitionError: a bad date or source name (nothing started).
        CrawlError: the crawl failed, timed out, or a write failed; the message is one line.
    """
    from crawlers.lifetime import run_crawl_process
    from include.core.partition import Partition

    part = Partition.of(source_name, dt)  # a bad date or name is refused before anything starts
    cmd = [sys.executable, "-m", "crawlers.crawl", "--source", part.source, "--dt", part.dt]
    try:
        code, out = run_crawl_process(cmd, {**os.environ, **(env or {})}, timeout, stderr=None)
    except subprocess.TimeoutExpired:
        raise CrawlError(f"crawl of {part.source} for {part.dt} timed out after {timeout:g} s; killed") from None
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    summary = json.loads(lines[-1]) if lines else {}
    if code != 0 or not lines or summary.get("error"):
        why = summary.get("error") or f"exit {code}, no summary; see the crawl log above"
        raise CrawlError(f"crawl of {part.source} for {part.dt} failed: {why}")
    return summary


def main(argv: list[str] | None = None) -> None:
    """``python -m crawlers.crawl --source NAME --dt YYYY-MM-DD``: one crawl, summary JSON on stdout.

    Exits 1 (summary still printed, with ``error``) when a write failed or another crawl holds the partition.
    """
    from crawlers.lifetime import CrawlLockedError, die_with_parent, lock_path, partition_lock
    from include.core.partition import Partition
    from include.core.settings import get_settings

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", required=True)
    parser.add_argument("--dt", required=True)
    args = parser.parse_args(argv)
    die_with_parent()
    part = Partition.of(args.source, args.dt)
    settings = get_settings()
    path = lock_path(settings.lake, part.source, part.dt, settings.crawl_lock_dir)
    try:
        with partition_lock(path, settings.crawl_lock_wait_seconds):
            summary = run_in_process(part.source, part.dt)
    except CrawlLockedError as exc:
        summary = {"source": part.source, "dt": part.dt, "rows": 0, "error": str(exc)}
    print(json.dumps(summary, sort_keys=True), flush=True)
    if summary.get("error"):
        print(f"crawl of {part.source} for {part.dt} failed: {summary['error']}", file=sys.stderr, flush=True)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
