"""The shared state of one running demo web: its world, fault switches and hashtag registry.

The request handler of :mod:`include.demo.server` holds one :class:`App`; the shop and social API routes read it.
"""

from __future__ import annotations

import threading
import zlib

from include.demo.world import Post, Product, World
from include.synth.apparel import Design

FAULT_SKUS = (
    "fault-nojsonld",
    "fault-img404",
    "fault-truncated",
    "fault-html-as-jpeg",
    "fault-bomb",
    "fault-tiny",
    "fault-challenge",  # a bot wall's answer: HTTP 403 with Cloudflare's challenge page
)


def hashtag_id(tag: str) -> str:
    """The stable numeric Instagram id of a hashtag (lower-case, without ``#``).

    Args:
        tag: The hashtag.

    Returns:
        A 17-digit id string.
    """
    return str(17843000000000000 + zlib.crc32(tag.encode()) % 10**9)


def hashtags_of(post: Post) -> set[str]:
    """The lower-cased hashtags (without ``#``) of a post's caption.

    Args:
        post: The post.

    Returns:
        Its set of hashtags.
    """
    return {w[1:].lower() for w in post.caption.split() if w.startswith("#")}


class App:
    """Shared state of one running demo web: the world, fault switches and hashtag registry."""

    def __init__(self, world: World, faults: bool) -> None:
        self.world, self.faults = world, faults
        self.lock = threading.Lock()
        self.rate_limited_once = False
        design = Design("tshirt", "Red", "White", "stripes", "horizontal", 20)
        desc = "A product page that misbehaves on purpose."
        self.fault_products = {
            sku: Product(
                sku,
                "boutique",
                f"Test tee ({sku})",
                "Maison Verre",
                9.99,
                "GBP",
                "tshirt",
                f"p-{sku}",
                desc,
                design,
            )
            for sku in (FAULT_SKUS if faults else ())
        }
        tags = {"streetstyle", "emptytag"}.union(*(hashtags_of(p) for p in world.posts_of("instagram")))
        self.tags = {hashtag_id(t): t for t in tags}

    def feed(self, tag: str) -> list[Post | None]:
        """Instagram posts under a hashtag, newest first (``None`` marks the fault item without media)."""
        if tag == "emptytag":
            return []
        posts: list[Post | None] = [
            p for p in self.world.posts_of("instagram") if tag == "streetstyle" or tag in hashtags_of(p)
        ]
        if self.faults and tag == "streetstyle":
            posts.insert(min(2, len(posts)), None)  # the fault album, dated like its neighbour
        return posts
