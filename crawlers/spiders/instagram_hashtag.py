"""Instagram Graph API: media of one hashtag (``ig_hashtag_search`` then ``recent_media``/``top_media``).

The token travels in the ``Authorization: Bearer`` header, never in a URL (the ``access_token`` the API echoes in
``paging.next`` is dropped). Albums give every image child (``children{media_type,media_url}``). Rate limits are
read the way Meta reports them (:mod:`crawlers.spiders.graph_api`): the usage headers slow the crawl down from
``FTI_API_USAGE_SLOW`` percent (75) — an exponential wait before the next page, ``FTI_RETRY_BACKOFF_BASE × 2^k``
for each 5 points above it, capped at ``FTI_RETRY_AFTER_MAX`` — and stop it cleanly at ``FTI_API_USAGE_STOP``
(95) or when Meta announces a wait to regain access; a throttling error (codes 4, 17, 32, 613, 80002) stops it
too. A stop keeps what was crawled and says so in the health (``stopped: rate-limited`` and a ``status`` line).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import scrapy
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.task import deferLater

from crawlers.items import MediaItem
from crawlers.skips import count_skip
from crawlers.spiders.base import APISpider, resolve_user
from crawlers.spiders.graph_api import api_error, media_page, usage

# albums: every child's picture
FIELDS = (
    "id,media_type,media_url,permalink,caption,like_count,comments_count,timestamp,children{id,media_type,media_url}"
)
MAX_PAGE_SIZE = 50  # the hashtag edges return at most 50 results per page


class InstagramHashtagSpider(APISpider):
    """Yield the image posts (albums: every image) of one hashtag through the official Graph API.

    Args:
        api_base: Graph API root with version, e.g. ``https://graph.facebook.com/v21.0``.
        hashtag: Hashtag without ``#``.
        user_id: The Instagram professional account id the API calls are made for; default: the login of the
            Airflow connection ``conn_id`` (passed as ``FTI_USER_<CONN_ID>``).
        token: Access token (demo only); real sources read it from the Airflow connection ``conn_id``.
        conn_id: Airflow connection holding the token (passed as ``FTI_TOKEN_<CONN_ID>``).
        edge: ``recent_media`` (default) or ``top_media``.
        page_size: Posts per API page (at most 50).
        max_pages: Media pages read at most (the edges repeat one ``after`` cursor, so the end is ``paging.next``
            missing, or this cap).
    """

    name = "instagram_hashtag"

    def __init__(
        self, hashtag: str, user_id: str | None = None, edge: str = "recent_media", max_pages: int | str = 20,
        **kwargs: Any,
    ) -> None:  # fmt: skip
        super().__init__(**kwargs)
        self.hashtag = hashtag.lstrip("#")
        self.user_id = resolve_user(user_id, self.conn_id)
        self.edge = edge
        self.max_pages = int(max_pages)
        self.media_pages = 0

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):  # noqa: D102 (Scrapy hook)
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.slow_at = settings.getfloat("FTI_API_USAGE_SLOW", 75.0)
        spider.stop_at = settings.getfloat("FTI_API_USAGE_STOP", 95.0)
        spider.backoff_base = settings.getfloat("FTI_RETRY_BACKOFF_BASE", 1.0)
        spider.max_wait = settings.getfloat("FTI_RETRY_AFTER_MAX", 60.0)
        return spider

    def _request(self, path: str, callback, **params: Any) -> scrapy.Request:
        url = f"{self.api_base}/{path}?{urlencode(params)}" if params else path
        # dont_filter: the hashtag edges repeat one `after` cursor on every page, so page URLs repeat (max_pages caps)
        return scrapy.Request(url, headers=self.api_headers(), callback=callback, dont_filter=True)

    async def start(self):  # noqa: D102 (Scrapy hook)
        if not self.token:
            self.skip_source("no-credentials", f"#{self.hashtag}: no access token; set the Airflow connection")
            return
        if not self.user_id:
            self.skip_source("no-credentials", f"#{self.hashtag}: no Instagram user id; set the connection's login")
            return
        yield self._request("ig_hashtag_search", self.parse_hashtag, user_id=self.user_id, q=self.hashtag)

    def _payload(self, response) -> dict[str, Any] | None:
        """The JSON of a success answer; errors are counted, and a throttling error stops the crawl."""
        self.page_seen()
        try:
            payload = json.loads(response.text)
        except (json.JSONDecodeError, ValueError, AttributeError):
            self.skip("malformed-json", response.url)
            return None
        failure = api_error(payload, response.status)
        if failure is None:
            return payload if isinstance(payload, dict) else {}
        reason, error = failure
        message = error.get("message", "")
        if reason == "rate-limited":
            used = usage(response.headers)
            what = f"rate-limited by the Instagram API (error {error.get('code')}: {message})"
            self.stop(
                reason, what, code=error.get("code"), usage_percent=used.percent, regain_minutes=used.regain_minutes
            )
        count_skip(self.crawler, reason, response.url, message)
        self.logger.error("Instagram API error on #%s (%s): %s", self.hashtag, reason, message)
        return None

    async def pace(self, response) -> None:
        """Wait before the next call when the usage headers near the limit; stop when they reach it."""
        used = usage(response.headers)
        if used.percent >= self.stop_at or used.regain_minutes > 0:
            self.stop("rate-limited", f"rate-limited by the Instagram API ({used.header} at {used.percent:g} % of the "
                      f"limit, access back in about {used.regain_minutes:g} min)", usage_percent=used.percent,
                      regain_minutes=used.regain_minutes)  # fmt: skip
        if used.percent < self.slow_at:
            return
        wait = min(self.max_wait, self.backoff_base * 2 ** int((used.percent - self.slow_at) // 5))
        stats = self.crawler.stats
        stats.set_value("fti/throttle_wait_s", round(stats.get_value("fti/throttle_wait_s", 0.0) + wait, 3))
        self.logger.info("%s at %g %%: waiting %.1f s before the next call", used.header, used.percent, wait)
        from twisted.internet import reactor  # the one Scrapy installed (importing it earlier would pick another)

        await maybe_deferred_to_future(deferLater(reactor, wait, lambda: None))

    async def parse_hashtag(self, response):
        """Resolve the hashtag id and request its first media page."""
        payload = self._payload(response)
        if not payload or not payload.get("data"):
            if payload is not None:
                self.skip("unknown-hashtag", self.hashtag)
            return
        await self.pace(response)
        tag_id = payload["data"][0]["id"]
        yield self._request(f"{tag_id}/{self.edge}", self.parse_media, user_id=self.user_id, fields=FIELDS,
                            limit=min(self.page_size, MAX_PAGE_SIZE))  # fmt: skip

    async def parse_media(self, response):
        """Yield the image posts of one page and follow ``paging.next`` (paced by the usage headers)."""
        payload = self._payload(response)
        if payload is None:
            return
        self.media_pages += 1
        items, without_images, next_url = media_page(payload)
        for post_id in without_images:
            self.skip("no-media", post_id)
        for fields in items:
            yield MediaItem(**fields)
        if next_url and self.media_pages < self.max_pages:
            await self.pace(response)
            yield self._request(next_url, self.parse_media)
