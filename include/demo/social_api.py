"""The social APIs of the demo web: Instagram Graph hashtag search and feeds, Pinterest v5 partner search and
board pins.

Response shapes follow the real APIs (docs/crawling.md): Instagram answers with ``paging.next`` and only an
``after`` cursor (as the hashtag edges do), nested ``children{…}`` fields for albums, error payloads with
Graph error codes and the ``X-App-Usage`` header on every answer; Pinterest with ``SummaryPin`` objects on
``/search/partner/pins`` (``term`` and ``country_code`` required, ``limit`` ≤ 50), ``Pin`` objects on
``/boards/<id>/pins`` (``page_size`` ≤ 250), bookmark paging, Bearer auth and ``{"code", "message"}`` errors.
:class:`SocialApiRoutes` holds the route handlers and is mixed into the request handler of
:mod:`include.demo.server`; the module-level functions build the payloads.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from include.demo.app import hashtag_id
from include.demo.world import POST_SIZE, Post

if TYPE_CHECKING:
    from include.demo.app import App

FAULT_POST_ID = "17999999999999999"
IG_BASE, PIN_BASE = "/social/instagram/v21.0", "/social/pinterest/v5"
IG_AUTH_ERROR = {"error": {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190}}
DEMO_BOARD_ID = "1100000000000001"  # the one board of the demo's trend account: every Pinterest post


def _app_usage(percent: int) -> dict[str, str]:
    """The ``X-App-Usage`` header (percent of the hourly budget used)."""
    usage = {"call_count": percent, "total_cputime": max(1, percent // 3), "total_time": max(1, percent // 2)}
    return {"X-App-Usage": json.dumps(usage, separators=(",", ":"))}


def _fields(spec: str) -> dict[str, list[str] | None]:
    """A Graph ``fields`` list, nested edges included: ``id,children{id,media_url}`` -> {id: None, children: [...]}."""
    out: dict[str, list[str] | None] = {}
    depth, token = 0, ""
    for char in spec + ",":
        if char == "," and depth == 0:
            name, _, inner = token.strip().partition("{")
            if name:
                out[name] = [f.strip() for f in inner.rstrip("}").split(",") if f.strip()] if inner else None
            token = ""
            continue
        depth += (char == "{") - (char == "}")
        token += char
    return out


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _offset(cursor: str | None) -> int:
    """Decode a cursor/bookmark (``ValueError`` if malformed)."""
    if not cursor:
        return 0
    text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    if not text.startswith("offset:"):
        raise ValueError(cursor)
    return max(0, int(text.removeprefix("offset:")))


class SocialApiRoutes:
    """Route handlers of the Instagram and Pinterest APIs, mixed into the demo web's request handler.

    The handler provides ``app`` (shared state), ``query`` (the parsed query string), ``headers``, ``base``
    (the absolute base URL of the request) and the ``_send`` / ``_json`` responders.
    """

    app: App
    query: dict[str, str]

    # -- instagram -----------------------------------------------------------------------------------------
    def _ig_token_ok(self) -> bool:
        bearer = self.headers.get("Authorization", "").partition(" ")[2].strip()
        if self.query.get("access_token", "").strip() or bearer:
            return True
        self._json(400, IG_AUTH_ERROR)
        return False

    def _ig_param_error(self, name: str) -> None:
        message = f"(#100) The parameter {name} is required"
        self._json(400, {"error": {"message": message, "type": "OAuthException", "code": 100}})

    def ig_search(self) -> None:
        if not self._ig_token_ok():
            return None
        if not self.query.get("user_id"):
            return self._ig_param_error("user_id")
        tag = self.query.get("q", "").strip().lstrip("#").lower()
        if not tag:
            return self._ig_param_error("q")
        tag_id = hashtag_id(tag)
        with self.app.lock:
            self.app.tags[tag_id] = tag
        self._json(200, {"data": [{"id": tag_id}]})

    def ig_recent(self, tag_id: str) -> None:
        if not self._ig_token_ok():
            return None
        if not self.query.get("user_id"):
            return self._ig_param_error("user_id")
        tag = self.app.tags.get(tag_id)
        if tag is None:
            return self._json(
                400,
                {
                    "error": {
                        "message": f"Unsupported get request. Object with ID '{tag_id}' does not exist",
                        "type": "GraphMethodException",
                        "code": 100,
                    }
                },
            )
        try:
            offset = _offset(self.query.get("after"))
            limit = min(max(int(self.query.get("limit") or 25), 1), 100)
        except ValueError:
            return self._ig_param_error("after")
        usage = 12
        if offset > 0 and self.app.faults:
            with self.app.lock:
                first, self.app.rate_limited_once = not self.app.rate_limited_once, True
            usage = 80 if first else usage  # once: near the limit, as the usage headers say it (the crawler waits)
        posts = self.app.feed(tag)
        if not posts:
            return self._json(200, {"data": []}, _app_usage(usage))
        fields = _fields(self.query.get("fields", "")) or None
        page = posts[offset : offset + limit]
        stamp = f"{self.app.world.date}T12:00:00"
        hole = posts.index(None) if None in posts else 0
        if hole > 0 and posts[hole - 1] is not None:
            stamp = posts[hole - 1].timestamp
        out: dict = {
            "data": [_ig_media(p, self.base, fields, stamp) for p in page],
            "paging": {"cursors": {"after": _cursor(offset + len(page))}},  # the hashtag edges give no `before`
        }
        if offset + limit < len(posts):
            params = {**self.query, "after": _cursor(offset + len(page)), "limit": str(limit)}
            out["paging"]["next"] = f"{self.base}{IG_BASE}/{tag_id}/recent_media?{urlencode(params)}"
        self._json(200, out, _app_usage(usage))

    # -- pinterest -----------------------------------------------------------------------------------------
    def _pin_auth_ok(self) -> bool:
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            self._json(401, {"code": 2, "message": "Authentication failed."})
            return False
        return True

    def _pin_page(self, size_param: str, default: int, most: int, board: bool) -> None:
        try:
            offset = _offset(self.query.get("bookmark"))
            size = min(max(int(self.query.get(size_param) or default), 1), most)
        except ValueError:
            return self._json(400, {"code": 1, "message": f"Invalid parameters: bookmark or {size_param}."})
        pins = self.app.world.posts_of("pinterest")
        page = pins[offset : offset + size]
        more = offset + size < len(pins)
        items = [_pin(p, self.base) if board else _summary_pin(p, self.base) for p in page]
        self._json(200, {"items": items, "bookmark": _cursor(offset + len(page)) if more else None})

    def pin_search(self) -> None:
        if not self._pin_auth_ok():
            return None
        for name in ("term", "country_code"):
            if not self.query.get(name, "").strip():
                return self._json(400, {"code": 1, "message": f"Invalid parameters: {name} is required."})
        return self._pin_page("limit", 10, 50, board=False)

    def board_pins(self, board_id: str) -> None:
        if not self._pin_auth_ok():
            return None
        if board_id != DEMO_BOARD_ID:
            return self._json(404, {"code": 404, "message": "Board not found."})
        return self._pin_page("page_size", 25, 250, board=True)


def _ig_media(post: Post | None, base: str, fields: dict[str, list[str] | None] | None, fault_time: str) -> dict:
    if post is None:  # fault: an album whose only child is a video without media_url (copyrighted audio)
        item = {
            "id": FAULT_POST_ID,
            "media_type": "CAROUSEL_ALBUM",
            "permalink": "https://www.instagram.com/p/CfAuLtAlBuM/",
            "caption": "Swipe for more #streetstyle",
            "like_count": 12,
            "comments_count": 1,
            "timestamp": fault_time[:19] + "+0000",
            "children": {"data": [{"id": "17999999999999998", "media_type": "VIDEO"}]},
        }
    else:
        code = base64.urlsafe_b64encode(int(post.post_id).to_bytes(8, "big")).decode().rstrip("=")
        item = {
            "id": post.post_id,
            "media_type": "IMAGE",
            "media_url": f"{base}/img/{post.image_id}.jpg",
            "permalink": f"https://www.instagram.com/p/{code}/",
            "caption": post.caption,
            "like_count": post.like_count,
            "comments_count": post.comments_count,
            "timestamp": post.timestamp[:19] + "+0000",
        }
    if fields is None:
        return {k: v for k, v in item.items() if k != "children"}  # an edge is only returned when asked for
    out = {k: v for k, v in item.items() if k == "id" or k in fields}
    if "children" in out and fields.get("children"):
        wanted = fields["children"] or []
        children = item["children"]["data"]
        out["children"] = {"data": [{k: v for k, v in c.items() if k == "id" or k in wanted} for c in children]}
    return out


def _images(post: Post, base: str) -> dict:
    url = f"{base}/img/{post.image_id}.jpg"
    w, h = POST_SIZE
    return {
        "media_type": "image",
        "images": {
            "150x150": {"url": f"{url}?size=150x150", "width": 150, "height": 150},
            "600x": {"url": url, "width": w, "height": h},
            "1200x": {"url": url, "width": w, "height": h},
        },
    }


def _summary_pin(post: Post, base: str) -> dict:
    """A ``SummaryPin`` (what ``/search/partner/pins`` answers)."""
    return {"id": post.post_id, "title": post.title, "description": post.caption, "link": None, "alt_text": None,
            "media": _images(post, base)}  # fmt: skip


def _pin(post: Post, base: str) -> dict:
    """A ``Pin`` (what ``/boards/<id>/pins`` answers); v5 has no save or like count."""
    return {
        **_summary_pin(post, base),
        "created_at": post.timestamp[:19],
        "dominant_color": post.colour_hex,
        "board_id": DEMO_BOARD_ID,
        "board_owner": {"username": "demo_trends"},
        "board_section_id": None,
        "creative_type": "REGULAR",
        "is_owner": False,
        "is_standard": True,
        "has_been_promoted": False,
        "parent_pin_id": None,
        "pin_metrics": None,
    }
