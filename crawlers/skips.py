"""Counted, named skips: every refused page, image or API record is one ``fti/skipped/<reason>`` count and one
line ``{"reason", "url", "detail"}`` of the batch's ``skips.jsonl`` (the full per-URL list, never cut from a log).

Reasons name the cause: ``robots-disallowed``, ``over-max-size``, ``http-404``, ``http-429``, ``timeout``,
``dns-error``, ``connection-error``, ``bad-jsonld`` (JSON-LD present but unparsable) vs ``no-jsonld`` (none),
``blocked-address``, ``bad-image``, ``duplicate-content``... (docs/crawling.md).
"""

from __future__ import annotations

import json
from typing import Any

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http.request import NO_CALLBACK
from scrapy.spidermiddlewares.httperror import HttpError

MAX_LINES = 200_000  # a runaway crawl cannot grow the list without bound; the counts stay exact


def count_skip(crawler: Any, reason: str, url: str | None = None, detail: str | None = None) -> None:
    """Count one skip of ``reason`` and keep its URL for ``skips.jsonl``."""
    crawler.stats.inc_value(f"fti/skipped/{reason}")
    kept: list[dict[str, Any]] = crawler.__dict__.setdefault("_fti_skips", [])
    if len(kept) < MAX_LINES:
        line = {"reason": reason, "url": url}
        if detail:
            line["detail"] = " ".join(str(detail).split())[:300]
        kept.append(line)
    else:
        crawler.stats.inc_value("fti/skips_not_listed")


def skips_jsonl(crawler: Any) -> bytes:
    """The crawl's skips as JSON lines, sorted (reason, url) so a rerun of the same crawl writes the same bytes."""
    kept = crawler.__dict__.get("_fti_skips", [])
    rows = sorted(kept, key=lambda r: (r["reason"], r.get("url") or "", r.get("detail") or ""))
    return "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows).encode()


def media_reason(value: BaseException) -> str:
    """The named skip reason of a failed image download (the exception Scrapy hands ``media_failed``)."""
    from scrapy.exceptions import IgnoreRequest
    from scrapy.pipelines.media import FileException
    from twisted.internet import error as net

    text = str(value).strip()
    named = text.split(":", 1)[0].strip() if ":" in text else text
    if isinstance(value, (IgnoreRequest, FileException)) and named and " " not in named and named != "download-error":
        return named  # ours: blocked-address, robots-disallowed, http-404, bad-image reasons...
    if "download max size" in text:
        return "over-max-size"  # DOWNLOAD_MAXSIZE: body (or its Content-Length) too big
    if isinstance(value, IgnoreRequest):
        return "filtered"
    kinds = ((net.TimeoutError, "timeout"), (net.DNSLookupError, "dns-error"), (net.ConnectError, "connection-error"))
    return next((name for kind, name in kinds if isinstance(value, kind)), "fetch-error")


class CountingRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, with each refused page counted (``robots-disallowed``) and named."""

    def process_request_2(self, rp, request):  # noqa: D102 (Scrapy hook)
        try:
            return super().process_request_2(rp, request)
        except IgnoreRequest:
            if request.callback is not NO_CALLBACK:  # images: counted by the images pipeline
                count_skip(self.crawler, "robots-disallowed", request.url)
            raise IgnoreRequest(f"robots-disallowed: {request.url}") from None


class HttpErrorSkips:
    """Spider middleware (before Scrapy's HttpError one): a page answering 4xx/5xx is a skip ``http-<status>``."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler) -> HttpErrorSkips:  # noqa: D102 (Scrapy hook)
        return cls(crawler)

    def process_spider_exception(self, response, exception, spider=None):  # noqa: D102 (Scrapy hook)
        if isinstance(exception, HttpError):
            count_skip(self.crawler, f"http-{response.status}", response.url)
        return None  # Scrapy's HttpErrorMiddleware still logs and swallows it
