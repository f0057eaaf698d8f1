"""Retries that back off: ``Retry-After`` honoured on 429/503, exponential backoff otherwise.

Scrapy's own ``RetryMiddleware`` re-queues a failed request at once. This subclass waits first — the server's
``Retry-After`` (seconds or an HTTP date) when it sends one, else ``FTI_RETRY_BACKOFF_BASE * 2**attempt`` — capped
at ``FTI_RETRY_AFTER_MAX`` seconds. Only the retried request waits; the wait is counted in ``fti/retry_wait_s``.
"""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.response import response_status_message
from twisted.internet import reactor
from twisted.internet.task import deferLater

RETRY_AFTER_STATUSES = {429, 503}


def parse_retry_after(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or HTTP date); ``None`` when absent/invalid."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


class RetryAfterMiddleware(RetryMiddleware):
    """Retry 429/5xx after the server's ``Retry-After`` (capped) or an exponential backoff."""

    def __init__(self, settings) -> None:
        super().__init__(settings)
        self.max_wait = settings.getfloat("FTI_RETRY_AFTER_MAX", 60.0)
        self.backoff_base = settings.getfloat("FTI_RETRY_BACKOFF_BASE", 1.0)

    def retry_delay(self, request, response) -> float:
        """Seconds the retry of ``request`` waits after ``response``."""
        delay = None
        if response.status in RETRY_AFTER_STATUSES:
            delay = parse_retry_after(response.headers.get(b"Retry-After"))
        if delay is None:
            delay = self.backoff_base * 2 ** request.meta.get("retry_times", 0)
        return min(delay, self.max_wait)

    async def process_response(self, request, response, spider=None):  # noqa: D102 (Scrapy hook)
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        delay = self.retry_delay(request, response)
        if delay > 0:
            stats = self.crawler.stats
            stats.set_value("fti/retry_wait_s", round(stats.get_value("fti/retry_wait_s", 0.0) + delay, 3))
            await maybe_deferred_to_future(deferLater(reactor, delay, lambda: None))
        return retry
