"""The last fallback for a product's main image: the largest image of the page's own product gallery.

Some product pages name their image nowhere in their metadata (COS and & Other Stories pages of 2018-19 carry
``og:title`` and an ``og:price`` but neither ``og:image`` nor JSON-LD); the picture is only in the gallery's
``<img>`` tags. An image counts as the product's when its URL carries the product's id (the digits of the SKU or
of the page URL, separators ignored: ``0695515001`` is in ``…source[02_0695515_001_001]…``) or when it sits in a
gallery container (``gallery``, ``pdp``, ``product-image``, ``zoom``, ``carousel`` … in a class or id); images in
recommendation blocks ("style with", "related", "similar") and logos, icons, swatches, sprites and tracking pixels
never count. Of those, the largest wins: a zoom rendition (``data-zoom-src``, ``data-zoom-image``, ``data-large``
…) over a ``srcset``'s widest candidate over ``width`` × ``height`` over a bare ``src``; ties go to the first in
the page. No product image found: ``None`` (no banner posing as the product).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from crawlers.urls import absolute_url, best_from_srcset

ZOOM_ATTRIBUTES = ("data-zoom-src", "data-zoom-image", "data-zoom", "data-large", "data-large-src", "data-full",
                   "data-full-src", "data-hires", "data-big", "data-original")  # fmt: skip
SRCSET_ATTRIBUTES = ("data-srcset", "srcset")
SRC_ATTRIBUTES = ("data-src", "data-lazy-src", "src")
GALLERY = re.compile(r"gallery|pdp|product[-_]?(image|img|media|photo|picture|shot)|zoom|main[-_]?image|carousel"
                     r"|slider|swiper|slick|hero", re.I)  # fmt: skip
ELSEWHERE = re.compile(r"recommend|related|similar|style[-_]?with|also|upsell|cross[-_]?sell|recent|complete|outfit"
                       r"|footer|header|nav|menu|banner|promo", re.I)  # fmt: skip
NOT_A_PRODUCT = re.compile(r"logo|icon|sprite|avatar|swatch|placeholder|pixel|badge|flag|payment|spinner|loader"
                           r"|pinit|\.svg(\?|$)|\.gif(\?|$)", re.I)  # fmt: skip
_ANCESTORS = 6


def _int(value: Any) -> int:
    match = re.match(r"\s*(\d+)", str(value or ""))
    return int(match[1]) if match else 0


def _context(img) -> tuple[bool, bool]:
    """Whether ``img`` sits in a gallery container, and whether it sits in a block of other things."""
    gallery = elsewhere = False
    node = img
    for _ in range(_ANCESTORS):
        if node is None:
            break
        names = f"{node.get('class') or ''} {node.get('id') or ''}"
        gallery = gallery or bool(GALLERY.search(names))
        elsewhere = elsewhere or bool(ELSEWHERE.search(names))
        node = node.getparent()
    return gallery, elsewhere


def candidates(img) -> list[tuple[int, int, str]]:
    """The renditions an ``<img>`` names: (zoom rank, width in px or 0, URL)."""
    out = []
    for attr in ZOOM_ATTRIBUTES:
        if img.get(attr):
            out.append((1, 0, img.get(attr).strip()))
    for attr in SRCSET_ATTRIBUTES:
        if img.get(attr) and (url := best_from_srcset(img.get(attr))):
            widths = [_int(c.strip().split()[1]) for c in img.get(attr).split(",") if len(c.split()) > 1]
            out.append((0, max(widths or [0]), url))
    width = _int(img.get("width"))
    for attr in SRC_ATTRIBUTES:
        if img.get(attr):
            out.append((0, width, img.get(attr).strip()))
            break
    return out


def _id_hints(hints: Iterable[str]) -> set[str]:
    """Digit runs of at least 6 characters in the product id and page URL (``0695515001``)."""
    return {run for hint in hints for run in re.findall(r"\d{6,}", re.sub(r"[^0-9A-Za-z/]", "", str(hint)))}


def gallery_image(tree, base: str | None, hints: Iterable[str] = ()) -> str | None:
    """The largest product image of the page's gallery, as an absolute URL (see the module docstring).

    Args:
        tree: The page parsed by lxml.
        base: Base URL for relative image URLs.
        hints: Product id, page URL: their digit runs mark the product's own images.
    """
    ids = _id_hints(hints)
    best: tuple[Any, ...] | None = None
    for order, img in enumerate(tree.iter("img")):
        declared = (_int(img.get("width")), _int(img.get("height")))
        if 0 < min(declared) <= 50 or NOT_A_PRODUCT.search(f"{img.get('class') or ''} {img.get('alt') or ''}"):
            continue
        gallery, elsewhere = _context(img)
        for zoom, width, raw in candidates(img):
            url = absolute_url(raw, base)
            if not url or NOT_A_PRODUCT.search(url):
                continue
            own = any(i in re.sub(r"[^0-9A-Za-z/]", "", url) for i in ids)
            relevance = 2 * own + (gallery and not elsewhere)
            if relevance == 0 or (elsewhere and not own):
                continue
            key = (relevance, zoom, width, -order)
            if best is None or key > best[0]:
                best = (key, url)
    return best[1] if best else None
