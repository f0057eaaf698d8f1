"""Instagram Graph API: media of one hashtag (``ig_hashtag_search`` then ``recent_media``/``top_media``)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import scrapy

from crawlers.items import MediaItem
from crawlers.spiders.base import APISpider, resolve_user

FIELDS = "id,media_type,media_url,permalink,caption,like_count,comments_count,timestamp"


class InstagramHashtagSpider(APISpider):
    """Yield the image posts of one hashtag through the official Graph API.

    Args:
        api_base: Graph API root with version, e.g. ``https://graph.facebook.com/v21.0``.
        hashtag: Hashtag without ``#``.
        user_id: The Instagram professional account id the API calls are made for; default: the login of the
            Airflow connection ``conn_id`` (passed as ``FTI_USER_<CONN_ID>``).
        token: Access token (demo only); real sources read it from the Airflow connection ``conn_id``.
        conn_id: Airflow connection holding the token (passed as ``FTI_TOKEN_<CONN_ID>``).
        edge: ``recent_media`` (default) or ``top_media``.
        page_size: Posts per API page.
    """

    name = "instagram_hashtag"

    def __init__(self, hashtag: str, user_id: str | None = None, edge: str = "recent_media", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hashtag = hashtag.lstrip("#")
        self.user_id = resolve_user(user_id, self.conn_id)
        self.edge = edge

    def _api(self, path: str, **params: Any) -> str:
        return f"{self.api_base}/{path}?{urlencode({**params, 'access_token': self.token})}"

    async def start(self):  # noqa: D102 (Scrapy hook)
        if not self.token:
            self.skip_source("no-credentials", f"#{self.hashtag}: no access token; set the Airflow connection")
            return
        if not self.user_id:
            self.skip_source("no-credentials", f"#{self.hashtag}: no Instagram user id; set the connection's login")
            return
        yield scrapy.Request(
            self._api("ig_hashtag_search", user_id=self.user_id, q=self.hashtag), callback=self.parse_hashtag
        )

    def _payload(self, response) -> dict[str, Any] | None:
        self.page_seen()
        try:
            payload = json.loads(response.text)
        except (json.JSONDecodeError, ValueError):
            self.skip("malformed-json", response.url)
            return None
        if response.status >= 400 or "error" in payload:
            error = payload.get("error", {}) if isinstance(payload, dict) else {}
            reason = "expired-token" if error.get("code") == 190 else f"api-error-{response.status}"
            self.crawler.stats.inc_value(f"fti/skipped/{reason}")
            self.logger.error("Instagram API error on #%s: %s", self.hashtag, error.get("message", response.text))
            return None
        return payload

    def parse_hashtag(self, response):
        """Resolve the hashtag id and request its first media page."""
        payload = self._payload(response)
        if not payload or not payload.get("data"):
            if payload is not None:
                self.skip("unknown-hashtag", self.hashtag)
            return
        tag_id = payload["data"][0]["id"]
        yield scrapy.Request(
            self._api(f"{tag_id}/{self.edge}", user_id=self.user_id, fields=FIELDS, limit=self.page_size),
            callback=self.parse_media,
        )

    def parse_media(self, response):
        """Yield image posts of one page and follow ``paging.next``."""
        payload = self._payload(response)
        if payload is None:
            return
        for post in payload.get("data") or []:
            media_url = post.get("media_url")
            if not media_url or post.get("media_type") not in (None, "IMAGE", "CAROUSEL_ALBUM"):
                self.skip("no-media", str(post.get("id")))
                continue
            yield MediaItem(
                product_id=str(post.get("id")),
                page_url=post.get("permalink"),
                caption=post.get("caption"),
                likes=int(post.get("like_count") or 0),
                posted_at=post.get("timestamp"),
                image_urls=[media_url],
            )
        next_url = (payload.get("paging") or {}).get("next")
        if next_url:
            yield scrapy.Request(next_url, callback=self.parse_media)
