"""What every FTI spider shares: counted skips and API credentials."""

from __future__ import annotations

import os

import scrapy


class FTISpider(scrapy.Spider):
    """Base spider: typed arguments arrive as keyword arguments from :mod:`crawlers.crawl`."""

    def skip(self, reason: str, detail: str = "") -> None:
        """Count (and log) an item that was skipped for ``reason``."""
        self.crawler.stats.inc_value(f"fti/skipped/{reason}")
        self.logger.warning("skipped (%s) %s", reason, detail)

    def page_seen(self) -> None:
        """Count one parsed page or API response."""
        self.crawler.stats.inc_value("fti/pages")


class APISpider(FTISpider):
    """A spider of an official JSON API: root URL, token, page size; error statuses reach the callbacks."""

    handle_httpstatus_list = [400, 401, 403]

    def __init__(
        self,
        api_base: str,
        token: str | None = None,
        conn_id: str | None = None,
        page_size: int | str = 50,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.api_base = api_base.rstrip("/")
        self.token = resolve_token(token, conn_id)
        self.page_size = int(page_size)


def resolve_token(token: str | None, conn_id: str | None) -> str | None:
    """An API token: the explicit one (demo only), else ``FTI_TOKEN_<CONN_ID>`` set by the Airflow task."""
    if token:
        return token
    if conn_id:
        return os.environ.get(f"FTI_TOKEN_{conn_id.upper()}") or None
    return None
