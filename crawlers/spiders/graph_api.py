"""The Instagram Graph API's answers as documented: media pages, error payloads, rate-limit usage headers.

Pure functions of a response body and headers, shared by :class:`crawlers.spiders.instagram_hashtag.
InstagramHashtagSpider` and ``fti parse-page``.

* Media: ``IMAGE`` posts carry ``media_url``; ``CAROUSEL_ALBUM`` posts (the most common fashion format) carry
  their pictures in ``children{media_type,media_url}`` — the album's own ``media_url`` is its first picture at
  best, and the API may omit it; ``VIDEO`` posts and video children are not images. ``media_url`` is also omitted
  for media with copyrighted audio (documented): such a post is a counted ``no-media`` skip.
* Errors: ``{"error": {"message", "type", "code", "error_subcode", "is_transient", "fbtrace_id"}}`` with HTTP 400
  or 403. Throttling codes: 4 (application request limit), 17 (user request limit), 32 (page request limit), 613
  (a custom rate limit), 80002 (Instagram business-use-case limit); 190 is an invalid or expired token; 10 and
  200–299 are missing permissions.
* Usage: ``X-App-Usage`` (``{"call_count", "total_cputime", "total_time"}``, percent of the hourly budget) and
  ``X-Business-Use-Case-Usage`` (``{"<id>": [{"type", "call_count", "total_cputime", "total_time",
  "estimated_time_to_regain_access"}]}``, the last in minutes). Calls start failing at 100 %.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from crawlers.redaction import without_token

THROTTLE_CODES = {4: "application request limit", 17: "user request limit", 32: "page request limit",
                  613: "custom rate limit", 80002: "Instagram business use case limit"}  # fmt: skip
TOKEN_CODES = {190}
PERMISSION_CODES = {10, *range(200, 300)}
USAGE_HEADERS = (b"X-App-Usage", b"X-Business-Use-Case-Usage")


@dataclass(frozen=True)
class Usage:
    """The highest share of a rate-limit budget the API reports as used, and the wait it announces."""

    percent: float = 0.0
    regain_minutes: float = 0.0
    header: str | None = None


def usage(headers) -> Usage:
    """The rate-limit usage the response's headers report (zero when it sends none: absence is not headroom, but
    there is nothing to act on)."""
    best = Usage()
    for name in USAGE_HEADERS:
        raw = headers.get(name)
        if not raw:
            continue
        try:
            data = json.loads(raw.decode("latin-1") if isinstance(raw, bytes) else raw)
        except ValueError:
            continue
        entries = [data] if name == b"X-App-Usage" else [e for v in (data or {}).values() for e in (v or [])]
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            pct = max(float(entry.get(k) or 0) for k in ("call_count", "total_cputime", "total_time"))
            regain = float(entry.get("estimated_time_to_regain_access") or 0)
            if (pct, regain) > (best.percent, best.regain_minutes):
                best = Usage(pct, regain, name.decode())
    return best


def api_error(payload: Any, status: int) -> tuple[str, dict[str, Any]] | None:
    """``(reason, error)`` of an error answer, or ``None``: ``rate-limited``, ``expired-token``, ``no-permission``,
    ``api-error-<code>``."""
    error = payload.get("error") if isinstance(payload, dict) else None
    if status < 400 and not error:
        return None
    error = error if isinstance(error, dict) else {"message": str(payload)[:300]}
    code = error.get("code")
    if code in THROTTLE_CODES:
        return "rate-limited", error
    if code in TOKEN_CODES:
        return "expired-token", error
    if code in PERMISSION_CODES:
        return "no-permission", error
    return f"api-error-{code or status}", error


def media_images(post: dict[str, Any]) -> list[str]:
    """The image URLs of one media object: its own for an ``IMAGE``, its image children for an album."""
    kind = post.get("media_type")
    if kind == "CAROUSEL_ALBUM":
        children = (post.get("children") or {}).get("data") or []
        urls = [c["media_url"] for c in children if c.get("media_type", "IMAGE") == "IMAGE" and c.get("media_url")]
        return urls or ([post["media_url"]] if post.get("media_url") else [])
    if kind in (None, "IMAGE") and post.get("media_url"):
        return [post["media_url"]]
    return []


def media_page(payload: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str], str | None]:
    """Item fields of one ``recent_media`` / ``top_media`` page, the ids of posts without images, the next page URL
    (token parameters removed: the token travels in the ``Authorization`` header)."""
    items, skipped = [], []
    for post in payload.get("data") or []:
        images = media_images(post)
        if not images:
            skipped.append(str(post.get("id")))
            continue
        items.append({
            "product_id": str(post.get("id")), "page_url": post.get("permalink"), "caption": post.get("caption"),
            "likes": int(post["like_count"]) if post.get("like_count") is not None else None,
            "posted_at": post.get("timestamp"), "image_urls": images,
        })  # fmt: skip
    next_url = (payload.get("paging") or {}).get("next")
    return items, skipped, without_token(next_url) if next_url else None
