"""Bot walls: refusals counted as ``blocked-by-site``, and a circuit breaker that stops the source.

A site that does not want a crawler answers 403, or a 200 (or 429/503) "challenge" page: Cloudflare's
(``cf-mitigated: challenge`` — its documented marker — or "Just a moment…" with ``/cdn-cgi/challenge-platform/``),
Akamai's "Access Denied … Reference #", DataDome's ``captcha-delivery.com``, PerimeterX/HUMAN's ``px-captcha``,
Imperva's ``_Incapsula_Resource``, AWS WAF's ``x-amzn-waf-action``. Such a page is not a product page and not a
missing one: each is a counted skip ``blocked-by-site`` that never reaches the spider.

The breaker opens after ``FTI_BLOCKED_AFTER`` (20) refusals in a row, or when the site has refused everything for
``FTI_BLOCKED_AFTER_SECONDS`` (45 s) — whichever comes first, so a walled source stops within a minute even at
polite crawl rates instead of walking its whole sitemap for an hour. Opening records the stop
(:mod:`crawlers.stops`: ``stopped: blocked-by-site`` and the one-line ``status`` in the health) and closes the
spider. Any page the site does serve (a product, a 404) closes the count again. Once open, no new page is sent; those
already handed to the downloader (at most ``CONCURRENT_REQUESTS``) still go out at the polite rate.

It watches the spider's own pages only: robots.txt and media downloads (requests without a callback) are judged
elsewhere, and API spiders (``bot_wall_breaker = False``) read their APIs' error payloads themselves.
"""

from __future__ import annotations

import re
import time

from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import TextResponse
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import deferred_from_coro

from crawlers.skips import count_skip
from crawlers.stops import record_stop

REASON = "blocked-by-site"
REFUSED_STATUSES = {401, 403, 407, 451}
CHALLENGE_HEADERS = {b"cf-mitigated": b"challenge", b"x-amzn-waf-action": None, b"x-datadome": None}
CHALLENGE_MARKERS = re.compile(
    r"/cdn-cgi/challenge-platform/|<title>\s*just a moment\.\.\.|cf-chl-|attention required! \| cloudflare"
    r"|captcha-delivery\.com|px-captcha|_pxcaptcha|_incapsula_resource|incapsula incident id|awswafintegration"
    r"|<title>\s*access denied\s*</title>[\s\S]*reference\s*#|errors\.edgesuite\.net|<title>[^<]*captcha[^<]*</title>"
    r"|are you a robot\?|verify you are (a )?human",
    re.I,
)
SMALL_PAGE = 256 * 1024  # challenge pages are small; a product page mentioning "captcha" in its scripts is not one


class BlockedBySite(IgnoreRequest):
    """A page the site refused (403 or a challenge page); its message starts with ``blocked-by-site:``."""


def refusal(response) -> str | None:
    """Why ``response`` is a bot wall's answer (e.g. ``HTTP 403``, ``challenge page (cf-mitigated)``), or ``None``."""
    for header, value in CHALLENGE_HEADERS.items():
        got = response.headers.get(header)
        matches = got is not None and (value is None or got.strip().lower() == value)
        if matches and (header != b"x-datadome" or response.status in REFUSED_STATUSES):
            return f"challenge page ({header.decode()})"
    if response.status in REFUSED_STATUSES:
        return f"HTTP {response.status}"
    small_text = isinstance(response, TextResponse) and len(response.body) < SMALL_PAGE
    if response.status in (200, 202, 429, 503) and small_text:
        head = response.body[:65536].decode(response.encoding or "utf-8", errors="replace")
        if CHALLENGE_MARKERS.search(head):
            return "challenge page"
    return None


class BotWallBreaker:
    """Downloader middleware counting refusals and opening the circuit after too many (see module docstring)."""

    def __init__(self, crawler, threshold: int, window: float) -> None:
        self.crawler = crawler
        self.threshold = threshold
        self.window = window
        self.pages = 0
        self.in_a_row = 0
        self.refusing_since: float | None = None
        self.open = False

    @classmethod
    def from_crawler(cls, crawler) -> BotWallBreaker:  # noqa: D102 (Scrapy hook)
        threshold = crawler.settings.getint("FTI_BLOCKED_AFTER", 20)
        if threshold <= 0:
            raise NotConfigured
        return cls(crawler, threshold, crawler.settings.getfloat("FTI_BLOCKED_AFTER_SECONDS", 45.0))

    @staticmethod
    def _watched(request, spider) -> bool:
        return request.callback is not NO_CALLBACK and getattr(spider, "bot_wall_breaker", False)

    def process_request(self, request, spider=None):  # noqa: D102 (Scrapy hook)
        if self.open and self._watched(request, spider or self.crawler.spider):  # queued before the circuit opened
            raise BlockedBySite(f"{REASON}: circuit open, {request.url} not requested")
        return None

    def process_response(self, request, response, spider=None):  # noqa: D102 (Scrapy hook)
        spider = spider or self.crawler.spider
        if not self._watched(request, spider):
            return response
        self.pages += 1
        why = refusal(response)
        if why is None:
            self.in_a_row, self.refusing_since = 0, None
            return response
        self.in_a_row += 1
        now = time.monotonic()
        self.refusing_since = self.refusing_since or now
        count_skip(self.crawler, REASON, request.url, why)
        spider.logger.warning("%s: %s for %s (%d in a row)", REASON, why, request.url, self.in_a_row)
        over_time = self.in_a_row >= 3 and now - self.refusing_since >= self.window
        if not self.open and (self.in_a_row >= self.threshold or over_time):
            self.trip(spider, why)
        raise BlockedBySite(f"{REASON}: {why} for {request.url}")

    def trip(self, spider, why: str) -> None:
        """Open the circuit: record the stop and close the spider."""
        self.open = True
        record_stop(self.crawler, REASON, "blocked by the site", requests=self.pages, refusals_in_a_row=self.in_a_row,
                    last_refusal=why)  # fmt: skip
        spider.logger.error("%s: blocked by the site (%s, %d refusals in a row after %d requests); stopping",
                            spider.name, why, self.in_a_row, self.pages)  # fmt: skip
        try:
            engine = self.crawler.engine
        except RuntimeError:  # no crawl running (the middleware used on its own)
            return
        self.closing = deferred_from_coro(engine.close_spider_async(reason="blocked_by_site"))
