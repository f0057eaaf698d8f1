"""Pinterest API v5: pins matching a search query, paginated by ``bookmark``."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import scrapy

from crawlers.items import MediaItem
from crawlers.spiders.base import APISpider

IMAGE_SIZES = ("1200x", "600x", "400x300", "originals")


def best_image(media: dict[str, Any] | None) -> str | None:
    """The largest image URL of a pin's ``media.images``."""
    images = (media or {}).get("images") or {}
    for size in IMAGE_SIZES:
        if isinstance(images.get(size), dict) and images[size].get("url"):
            return images[size]["url"]
    return None


class PinterestSearchSpider(APISpider):
    """Yield the image pins of one search query.

    Args:
        api_base: API root with version, e.g. ``https://api.pinterest.com/v5``.
        query: Search terms, e.g. ``london fashion week``.
        token: Bearer token (demo only); real sources read it from the Airflow connection ``conn_id``.
        conn_id: Airflow connection holding the token (passed as ``FTI_TOKEN_<CONN_ID>``).
        page_size: Pins per API page.
    """

    name = "pinterest_search"

    def __init__(self, query: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.query = query

    def _request(self, bookmark: str | None = None) -> scrapy.Request:
        params = {"query": self.query, "page_size": self.page_size}
        if bookmark:
            params["bookmark"] = bookmark
        return scrapy.Request(
            f"{self.api_base}/search/pins?{urlencode(params)}",
            headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"},
            callback=self.parse_pins,
        )

    async def start(self):  # noqa: D102 (Scrapy hook)
        if not self.token:
            self.skip_source("no-credentials", f"{self.query!r}: no access token; set the Airflow connection")
            return
        yield self._request()

    def parse_pins(self, response):
        """Yield image pins of one page and follow the ``bookmark``."""
        self.page_seen()
        try:
            payload = json.loads(response.text)
        except (json.JSONDecodeError, ValueError):
            self.skip("malformed-json", response.url)
            return
        if response.status >= 400:
            reason = "expired-token" if response.status == 401 else f"api-error-{response.status}"
            self.crawler.stats.inc_value(f"fti/skipped/{reason}")
            self.logger.error("Pinterest API error for %r: %s", self.query, payload.get("message"))
            return
        for pin in payload.get("items") or []:
            image = best_image(pin.get("media"))
            if not image:
                self.skip("no-media", str(pin.get("id")))
                continue
            yield MediaItem(
                product_id=str(pin.get("id")),
                page_url=pin.get("link"),
                title=pin.get("title"),
                caption=pin.get("description"),
                likes=int(pin.get("save_count") or 0),
                posted_at=pin.get("created_at"),
                image_urls=[image],
            )
        if payload.get("bookmark"):
            yield self._request(payload["bookmark"])
