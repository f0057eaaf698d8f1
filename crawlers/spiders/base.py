"""What every FTI spider shares: counted skips, API credentials kept out of URLs and logs, clean stops."""

from __future__ import annotations

import os

import scrapy
from scrapy.exceptions import CloseSpider

from crawlers.redaction import protect_logs
from crawlers.skips import count_skip
from crawlers.stops import record_stop


class FTISpider(scrapy.Spider):
    """Base spider: typed arguments arrive as keyword arguments from :mod:`crawlers.crawl`.

    ``bound_args`` holds the arguments of a registry source when the spider class was made for one by
    :mod:`crawlers.spider_loader` (``scrapy crawl <source>``); explicit arguments override them.
    """

    bound_args: dict = {}
    bot_wall_breaker = True  # crawlers.breaker watches this spider's pages

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        protect_logs()  # token query parameters and bearer credentials never reach a log line

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):  # noqa: D102 (Scrapy hook)
        return super().from_crawler(crawler, *args, **{**cls.bound_args, **kwargs})

    def skip(self, reason: str, detail: str = "") -> None:
        """Count (and log) an item that was skipped for ``reason``."""
        url = detail if detail.startswith(("http://", "https://")) else None
        count_skip(self.crawler, reason, url, None if url else detail)
        self.logger.warning("skipped (%s) %s", reason, detail)

    def skip_source(self, reason: str, detail: str) -> None:
        """Skip the whole source (no credentials): counted, logged, and recorded so no empty batch is written."""
        count_skip(self.crawler, reason, None, detail)
        self.crawler.stats.set_value("fti/source_skipped", reason)
        self.logger.warning("source %s skipped (%s): %s", self.name, reason, detail)

    def page_seen(self) -> None:
        """Count one parsed page or API response."""
        self.crawler.stats.inc_value("fti/pages")

    def stop(self, reason: str, what: str, **facts) -> None:
        """Stop the source cleanly and say why (:func:`crawlers.stops.record_stop`); in-flight items still land.

        Raises:
            CloseSpider: always (Scrapy closes the spider when a callback raises it).
        """
        record_stop(self.crawler, reason, what, requests=self.crawler.stats.get_value("fti/pages", 0), **facts)
        self.logger.error("%s: %s; stopping", self.name, what)
        raise CloseSpider(reason.replace("-", "_"))


class APISpider(FTISpider):
    """A spider of an official JSON API: root URL, token (sent in the ``Authorization`` header only, and scrubbed
    from every log line), page size; error statuses reach the callbacks, which read the API's error payloads."""

    handle_httpstatus_list = [400, 401, 403, 404, 429, 500, 503]
    bot_wall_breaker = False

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
        self.conn_id = conn_id
        self.token = resolve_token(token, conn_id)
        self.page_size = int(page_size)
        protect_logs(self.token)

    def api_headers(self) -> dict[str, str]:
        """The headers of every API call: the token as a Bearer credential, JSON wanted."""
        return {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}


def resolve_user(user_id: str | None, conn_id: str | None) -> str | None:
    """An account id: the explicit one, else ``FTI_USER_<CONN_ID>`` (the connection's login, set by the task)."""
    if user_id:
        return str(user_id)
    if conn_id:
        return os.environ.get(f"FTI_USER_{conn_id.upper()}") or None
    return None


def resolve_token(token: str | None, conn_id: str | None) -> str | None:
    """An API token: the explicit one (demo only), else ``FTI_TOKEN_<CONN_ID>`` set by the Airflow task."""
    if token:
        return token
    if conn_id:
        return os.environ.get(f"FTI_TOKEN_{conn_id.upper()}") or None
    return None
