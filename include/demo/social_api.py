"""The social APIs of the demo web: Instagram Graph hashtag search and feeds, Pinterest v5 pin search.

Response shapes follow the real APIs: cursor paging for Instagram, bookmark paging and Bearer auth for
Pinterest. :class:`SocialApiRoutes` holds the route handlers and is mixed into the request handler of
:mod:`include.demo.server`; the module-level functions build the payloads.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from include.demo.app import hashtag_id
from include.demo.world import POST_SIZE, Post

if TYPE_CHECKING:
    from include.demo.app import App

FAULT_POST_ID = "17999999999999999"
IG_BASE, PIN_BASE = "/social/instagram/v21.0", "/social/pinterest/v5"
IG_AUTH_ERROR = {"error": {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190}}


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
        if offset > 0 and self.app.faults:
            with self.app.lock:
                first, self.app.rate_limited_once = not self.app.rate_limited_once, True
            if first:
                return self._json(
                    429,
                    {
                        "error": {
                            "message": "Application request limit reached",
                            "type": "OAuthException",
                            "code": 4,
                            "is_transient": True,
                        }
                    },
                    {"Retry-After": "1"},
                )
        posts = self.app.feed(tag)
        if not posts:
            return self._json(200, {"data": []})
        fields = [f.strip() for f in self.query.get("fields", "").split(",") if f.strip()] or None
        page = posts[offset : offset + limit]
        stamp = f"{self.app.world.date}T12:00:00"
        hole = posts.index(None) if None in posts else 0
        if hole > 0 and posts[hole - 1] is not None:
            stamp = posts[hole - 1].timestamp
        out: dict = {
            "data": [_ig_media(p, self.base, fields, stamp) for p in page],
            "paging": {"cursors": {"before": _cursor(offset), "after": _cursor(offset + len(page))}},
        }
        if offset + limit < len(posts):
            params = {**self.query, "after": _cursor(offset + len(page)), "limit": str(limit)}
            out["paging"]["next"] = f"{self.base}{IG_BASE}/{tag_id}/recent_media?{urlencode(params)}"
        self._json(200, out)

    # -- pinterest -----------------------------------------------------------------------------------------
    def pin_search(self) -> None:
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return self._json(401, {"code": 2, "message": "Authentication failed."})
        if not self.query.get("query", "").strip():
            return self._json(400, {"code": 1, "message": "Invalid parameters: query is required."})
        try:
            offset = _offset(self.query.get("bookmark"))
            size = min(max(int(self.query.get("page_size") or 25), 1), 250)
        except ValueError:
            return self._json(400, {"code": 1, "message": "Invalid parameters: bookmark or page_size."})
        pins = self.app.world.posts_of("pinterest")
        page = pins[offset : offset + size]
        more = offset + size < len(pins)
        self._json(
            200,
            {
                "items": [_pin(p, self.base) for p in page],
                "bookmark": _cursor(offset + len(page)) if more else None,
            },
        )


def _ig_media(post: Post | None, base: str, fields: list[str] | None, fault_time: str) -> dict:
    if post is None:  # fault: an album without media_url
        item = {
            "id": FAULT_POST_ID,
            "media_type": "CAROUSEL_ALBUM",
            "permalink": "https://www.instagram.com/p/CfAuLtAlBuM/",
            "caption": "Swipe for more #streetstyle",
            "like_count": 12,
            "comments_count": 1,
            "timestamp": fault_time[:19] + "+0000",
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
        return item
    return {k: v for k, v in item.items() if k == "id" or k in fields}


def _pin(post: Post, base: str) -> dict:
    url = f"{base}/img/{post.image_id}.jpg"
    w, h = POST_SIZE
    return {
        "id": post.post_id,
        "created_at": post.timestamp[:19],
        "link": f"https://www.pinterest.com/pin/{post.post_id}/",
        "title": post.title,
        "description": post.caption,
        "dominant_color": post.colour_hex,
        "save_count": post.like_count,
        "board_id": "1100000000000001",
        "alt_text": None,
        "media": {
            "media_type": "image",
            "images": {
                "150x150": {"url": f"{url}?size=150x150", "width": 150, "height": 150},
                "600x": {"url": url, "width": w, "height": h},
                "1200x": {"url": url, "width": w, "height": h},
            },
        },
    }
