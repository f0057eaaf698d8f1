"""URLs as pages write them: relative, protocol-relative, URL-encoded as a whole, or a ``srcset`` list."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import unquote, urljoin


def absolute_url(value: Any, base: str | None) -> str | None:
    """An absolute http(s) URL, or ``None``.

    A list gives its first value, an ``ImageObject`` its ``url`` / ``contentUrl``; relative and ``//host`` URLs
    are resolved against ``base`` (``https:`` when there is none), a URL whose ``?`` is itself encoded
    (``https://lp.arket.com/app006prod%3Fset%3Dsource%5B…``) is decoded once; ``data:`` URIs and unfilled
    templates (``{{this.src}}``) are not URLs.
    """
    if isinstance(value, list):
        value = next((v for v in value if v), None)
    if isinstance(value, dict):
        value = value.get("url") or value.get("contentUrl")
    if not isinstance(value, str):
        return None
    url = html.unescape(value).strip()
    if not url or url.startswith(("data:", "javascript:", "about:")) or "{{" in url or "${" in url:
        return None
    if "?" not in url and re.search(r"%3F", url, re.I):
        url = unquote(url)
    if url.startswith("//"):
        url = ("http:" if base and base.startswith("http:") else "https:") + url
    if base:
        url = urljoin(base, url)
    if url.startswith(("http://", "https://")):
        return url
    return url if not base and not url.startswith(("mailto:", "tel:")) else None


def best_from_srcset(srcset: str) -> str | None:
    """The widest candidate of a ``srcset`` (``url 640w, url 1280w`` or ``url 1x, url 2x``)."""
    best, best_size = None, -1.0
    for candidate in srcset.split(","):
        bits = candidate.strip().split()
        if not bits:
            continue
        size = 1.0
        if len(bits) > 1 and bits[1][-1:] in ("w", "x"):
            try:
                size = float(bits[1][:-1])
            except ValueError:
                size = 1.0
        if size > best_size:
            best, best_size = bits[0], size
    return best
