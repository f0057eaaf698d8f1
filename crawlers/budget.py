"""Crawl budget: stop a crawl cleanly once it has downloaded ``FTI_MAX_BYTES`` bytes (pages and images).

Scrapy's ``CloseSpider`` extension caps items, pages and time, but not bytes; this extension closes the spider
with reason ``max_bytes`` once the bodies received exceed the budget, so no crawl can fill the disk. The stop is
recorded as ``fti/stopped`` (shown as ``stopped`` in the batch health).
"""

from __future__ import annotations

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro


class ByteBudget:
    """Extension closing the spider when the received bytes exceed ``FTI_MAX_BYTES``."""

    def __init__(self, crawler, max_bytes: int) -> None:
        self.crawler = crawler
        self.max_bytes = max_bytes
        self.received = 0
        self.closing = None

    @classmethod
    def from_crawler(cls, crawler) -> ByteBudget:  # noqa: D102 (Scrapy hook)
        max_bytes = crawler.settings.getint("FTI_MAX_BYTES", 0)
        if max_bytes <= 0:
            raise NotConfigured
        ext = cls(crawler, max_bytes)
        crawler.signals.connect(ext.response_received, signal=signals.response_received)
        return ext

    def response_received(self, response, request, spider=None) -> None:  # noqa: D102 (signal handler)
        self.received += len(response.body)
        self.crawler.stats.set_value("fti/bytes_received", self.received)
        if self.received > self.max_bytes and self.closing is None:
            self.crawler.stats.set_value("fti/stopped", "max-bytes")
            spider_name = getattr(self.crawler.spider, "name", "?")
            self.crawler.spider.logger.warning(
                "%s: %d bytes received > budget %d; stopping the crawl", spider_name, self.received, self.max_bytes
            )
            self.closing = deferred_from_coro(self.crawler.engine.close_spider_async(reason="max_bytes"))
