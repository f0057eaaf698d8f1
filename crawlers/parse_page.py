"""``fti parse-page FILE --spider SPIDER [--url URL]``: what a spider reads from one saved page or API answer.

``scrapy parse`` without the network: the spider type's own parsing runs on a file. A product page
(``jsonld_product``) gives one object of fields — ``title``, ``brand``, ``price``, ``currency``, ``image``,
``page_url``, ``availability``, ``product_id`` — and ``found_in`` (which syntax gave each field). An API answer
(``instagram_hashtag``: a ``recent_media`` page, or a bare list of media objects; ``pinterest_search``: a page of
pins) or a feed or article (``feed_article``) gives ``{"items": [...], "next": ..., "skipped": {...}}``.
:class:`NothingFound` says why when there is nothing: no product, an API error payload, no image posts.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from include.core.sources import SPIDER_TYPES


class NothingFound(ValueError):
    """The file holds nothing the spider would keep; the message is the reason."""


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError as exc:
        raise NothingFound(f"malformed-json: not a JSON API answer ({exc})") from exc


def _listing(items: list[dict[str, Any]], skipped: list[str], next_page: str | None, reason: str) -> dict[str, Any]:
    if not items:
        raise NothingFound(f"{reason}: no item with an image ({len(skipped)} skipped)")
    return {"items": items, "next": next_page, "skipped": dict(Counter({reason: len(skipped)})) if skipped else {}}


def parse_product(body: bytes, url: str | None) -> dict[str, Any]:
    """One product page's fields (``crawlers.extract``)."""
    from crawlers.extract import NoProduct, extract_product

    try:
        fields = extract_product(body, url)
    except NoProduct as exc:
        raise NothingFound(str(exc)) from exc
    fields.pop("bad_jsonld", None)
    return fields


def parse_instagram(body: bytes) -> dict[str, Any]:
    """A Graph API media page (or a list of media objects) as the Instagram spider reads it."""
    from crawlers.spiders.graph_api import api_error, media_page

    payload = _json(body)
    payload = {"data": payload} if isinstance(payload, list) else payload
    failure = api_error(payload, 200)
    if failure:
        raise NothingFound(f"{failure[0]}: {failure[1].get('message')}")
    return _listing(*media_page(payload), "no-media")


def parse_pinterest(body: bytes) -> dict[str, Any]:
    """A Pinterest v5 page of pins (partner search or board) as the Pinterest spider reads it."""
    from crawlers.spiders.pinterest_search import pin_page

    payload = _json(body)
    if isinstance(payload, dict) and "items" not in payload and "message" in payload:
        raise NothingFound(f"api-error-{payload.get('code')}: {payload['message']}")
    return _listing(*pin_page(payload if isinstance(payload, dict) else {}), "no-media")


def parse_editorial(body: bytes, url: str | None) -> dict[str, Any]:
    """An RSS/Atom feed (its entries) or an article page (its images) as the feed spider reads them."""
    from scrapy.http import HtmlResponse

    from crawlers.spiders.feed_article import FeedArticleSpider, MalformedFeed, parse_feed

    try:
        entries, next_url, _ = parse_feed(body)
    except MalformedFeed:  # not a feed: an article page
        response = HtmlResponse(url or "https://localhost/article.html", body=body)
        images = FeedArticleSpider(feed_url=response.url).article_images(response)
        title = response.xpath('//meta[@property="og:title"]/@content').get() or response.xpath("//title/text()").get()
        item = {"page_url": url, "title": (title or "").strip() or None, "image_urls": images}
        return _listing([item] if images else [], [] if images else [response.url], None, "no-image")
    items = [{"product_id": e["id"], "page_url": e["link"], "title": e["title"], "posted_at": e["published"],
              "image_urls": e["images"]} for e in entries if e["link"]]  # fmt: skip
    if not items:
        raise NothingFound("no-link: a feed without entries")
    return {"items": items, "next": next_url, "skipped": {}}


def parse_saved(path: str | Path, spider: str, url: str | None = None) -> dict[str, Any]:
    """What ``spider`` extracts from the saved file ``path`` (see the module docstring).

    Args:
        path: A saved page, feed or API answer.
        spider: A spider type (``SPIDER_TYPES``).
        url: The URL the file was served at (resolves relative URLs; default: what the page declares).

    Raises:
        NothingFound: nothing the spider would keep, with the reason.
        ValueError: an unknown spider type.
    """
    body = Path(path).read_bytes()
    if spider == "jsonld_product":
        return parse_product(body, url)
    if spider == "instagram_hashtag":
        return parse_instagram(body)
    if spider == "pinterest_search":
        return parse_pinterest(body)
    if spider == "feed_article":
        return parse_editorial(body, url)
    raise ValueError(f"unknown spider type {spider!r}; one of {SPIDER_TYPES}")
