"""Pinterest API v5: public pins of a search term (partner search) or of chosen trend accounts' boards.

Two modes, both paginated by ``bookmark``:

* **search** — ``GET /v5/search/partner/pins?term=…&country_code=…[&locale=…]&limit=…`` (``limit`` ≤ 50). The
  public search; a beta endpoint Pinterest enables per app. (``GET /v5/search/pins`` searches only the token
  owner's own pins, so it is not used.) It answers ``SummaryPin`` objects: ``id, title, description, link,
  alt_text, media``.
* **boards** — ``GET /v5/boards/{board_id}/pins?page_size=…`` (≤ 250) for each board id of ``boards``, e.g. the
  boards of trend accounts you follow. It answers ``Pin`` objects (``created_at``, ``board_owner`` … as well).

Scopes ``boards:read`` and ``pins:read``. The post URL stored is the pin's own page
(``https://www.pinterest.com/pin/<id>/``), not its outbound ``link``. v5 has no public save or like count, so
``likes`` stays empty rather than a made-up 0. Errors use the v5 ``Error`` shape ``{"code", "message"}``: 401 is
an expired or revoked token, a 403 on partner search means the app lacks access to it (the source is skipped and
says so), 404 an unknown board; a 429 still there after the retries stops the crawl cleanly (``rate-limited``).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import scrapy

from crawlers.items import MediaItem
from crawlers.skips import count_skip
from crawlers.spiders.base import APISpider

PIN_URL = "https://www.pinterest.com/pin/{}/"
SEARCH_LIMIT, BOARD_PAGE_SIZE = 50, 250


def best_image(images: dict[str, Any] | None) -> str | None:
    """The widest rendition of an ``ImageSize`` object (``150x150``, ``400x300``, ``600x``, ``1200x``)."""
    sized = []
    for key, image in (images or {}).items():
        if isinstance(image, dict) and image.get("url"):
            declared = key.split("x", 1)[0]
            width = image.get("width") or (int(declared) if declared.isdigit() else 0)
            sized.append((width, image["url"]))
    return max(sized)[1] if sized else None


def pin_images(media: dict[str, Any] | None) -> list[str]:
    """The image URLs of a pin's ``media``: one for ``image``, each image of ``multiple_images`` /
    ``multiple_mixed``; videos are not images."""
    media = media or {}
    kind = media.get("media_type")
    if kind == "image":
        return [u] if (u := best_image(media.get("images"))) else []
    if kind in ("multiple_images", "multiple_mixed"):
        return [u for item in media.get("items") or [] if item.get("item_type", "image") == "image"
                and (u := best_image(item.get("images")))]  # fmt: skip
    return []


def pin_page(payload: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str], str | None]:
    """Item fields of one page of pins, the ids of pins without images, and the next ``bookmark``."""
    items, skipped = [], []
    for pin in payload.get("items") or []:
        images = pin_images(pin.get("media"))
        if not images:
            skipped.append(str(pin.get("id")))
            continue
        items.append({
            "product_id": str(pin["id"]), "page_url": PIN_URL.format(pin["id"]), "title": pin.get("title") or None,
            "caption": pin.get("description") or pin.get("alt_text") or None, "posted_at": pin.get("created_at"),
            "image_urls": images,
        })  # fmt: skip
    return items, skipped, payload.get("bookmark") or None


class PinterestSearchSpider(APISpider):
    """Yield the image pins of a partner search (``term``) or of chosen boards (``boards``).

    Args:
        api_base: API root with version, e.g. ``https://api.pinterest.com/v5``.
        term: Search term, e.g. ``london fashion week`` (search mode).
        country_code: ISO 3166-1 alpha-2 country of the search (required by the API), default ``US``.
        locale: Optional search locale, e.g. ``en-GB``.
        boards: Board ids, a list or comma-separated (boards mode; used instead of ``term``).
        token: Bearer token (demo only); real sources read it from the Airflow connection ``conn_id``.
        conn_id: Airflow connection holding the token (passed as ``FTI_TOKEN_<CONN_ID>``).
        page_size: Pins per API page (search: at most 50; boards: at most 250).
        max_pages: Pages read at most per search or board.
    """

    name = "pinterest_search"

    def __init__(
        self, term: str | None = None, country_code: str = "US", locale: str | None = None,
        boards: list[str] | str | None = None, max_pages: int | str = 20, **kwargs: Any,
    ) -> None:  # fmt: skip
        super().__init__(**kwargs)
        self.term = term
        self.country_code = country_code.upper()
        self.locale = locale
        self.boards = [b.strip() for b in (boards.split(",") if isinstance(boards, str) else boards or []) if b]
        self.max_pages = int(max_pages)
        if not self.term and not self.boards:
            raise ValueError("pinterest_search needs a search term or board ids")

    def _request(self, board: str | None = None, bookmark: str | None = None, page: int = 1) -> scrapy.Request:
        if board:
            params: dict[str, Any] = {"page_size": min(self.page_size, BOARD_PAGE_SIZE)}
            path = f"boards/{board}/pins"
        else:
            params = {"term": self.term, "country_code": self.country_code, "limit": min(self.page_size, SEARCH_LIMIT)}
            params.update({"locale": self.locale} if self.locale else {})
            path = "search/partner/pins"
        if bookmark:
            params["bookmark"] = bookmark
        return scrapy.Request(
            f"{self.api_base}/{path}?{urlencode(params)}",
            headers=self.api_headers(),
            callback=self.parse_pins,
            cb_kwargs={"board": board, "page": page, "sent": bookmark},
        )

    async def start(self):  # noqa: D102 (Scrapy hook)
        what = ", ".join(self.boards) if self.boards else repr(self.term)
        if not self.token:
            self.skip_source("no-credentials", f"{what}: no access token; set the Airflow connection")
            return
        for board in self.boards or [None]:
            yield self._request(board)

    def _error(self, response, payload: Any, board: str | None) -> None:
        message = payload.get("message") if isinstance(payload, dict) else None
        if response.status == 429:
            self.stop("rate-limited", f"rate-limited by the Pinterest API (HTTP 429: {message})", status=429)
        if response.status == 401:
            reason = "expired-token"
        elif response.status == 403 and not board:
            self.skip_source("no-partner-access", f"{self.term!r}: the app may not use search/partner/pins (HTTP "
                             f"403: {message}); ask Pinterest for access or crawl chosen boards instead")  # fmt: skip
            return
        elif response.status == 404 and board:
            reason = "unknown-board"
        else:
            reason = "no-permission" if response.status == 403 else f"api-error-{response.status}"
        count_skip(self.crawler, reason, response.url, message)
        self.logger.error("Pinterest API error for %s (%s): %s", board or repr(self.term), reason, message)

    def parse_pins(self, response, board: str | None = None, page: int = 1, sent: str | None = None):
        """Yield the image pins of one page and follow the ``bookmark``."""
        self.page_seen()
        try:
            payload = json.loads(response.text)
        except (json.JSONDecodeError, ValueError, AttributeError):
            self.skip("malformed-json", response.url)
            return
        if response.status >= 400:
            self._error(response, payload, board)
            return
        items, without_images, bookmark = pin_page(payload)
        for pin_id in without_images:
            self.skip("no-media", pin_id)
        for fields in items:
            yield MediaItem(**fields)
        if bookmark and bookmark != sent and page < self.max_pages:
            yield self._request(board, bookmark, page + 1)
