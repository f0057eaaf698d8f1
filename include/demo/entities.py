"""What a demo-web world is made of: catalog products, social posts, planted trends and the :class:`World`.

The :class:`World` indexes them, renders their images lazily (:meth:`World.image_bytes`) and writes the
answer key (:meth:`World.truth`); :func:`include.demo.world.build_world` draws one from a seed.
"""

from __future__ import annotations

import threading
import zlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
from PIL import Image

from include.synth.apparel import Design, consumer_view_of_photo, jpeg_bytes, render_consumer_view, render_product

EPOCH = date(2026, 11, 1)
POST_SIZE = (320, 320)


@dataclass(frozen=True)
class Product:
    """A catalog product of one shop portal; ``design`` is None for real photos (then ``photo`` is a path)."""

    sku: str
    portal: str
    title: str
    brand: str
    price: float
    currency: str
    category: str
    image_id: str
    description: str
    design: Design | None = None
    photo: str | None = None
    image_quality: int = 90  # a re-listed design (another portal's shot of it) is encoded differently


@dataclass(frozen=True)
class Post:
    """A social post: a consumer photo of a planted design, of another catalog product, or of neither."""

    post_id: str
    network: str
    title: str
    caption: str
    like_count: int
    comments_count: int
    timestamp: str
    image_id: str
    planted_sku: str | None
    source_sku: str | None = None
    design: Design | None = None
    photo: str | None = None
    colour_hex: str = "#808080"


@dataclass(frozen=True)
class PlantedTrend:
    """A catalog product made to trend: its posts appear in proportion to its strength.

    ``direction`` says how the strength moves with the day: ``steady``, ``rising`` (+``rate`` of the base weight
    per day) or ``fading`` (-``rate`` per day, down to 15 % of it). On day 0 every trend has its base weight.
    """

    sku: str
    portal: str
    title: str
    horizon: str
    base_weight: float
    direction: str = "steady"
    rate: float = 0.0
    relisted: tuple[str, ...] = ()  # skus of the same design on the other portal

    def strength(self, day: int) -> float:
        """The trend's strength on ``day`` (days after 2026-11-01)."""
        if self.direction == "rising":
            return self.base_weight * (1.0 + self.rate * day)
        if self.direction == "fading":
            return self.base_weight * max(0.15, 1.0 - self.rate * day)
        return self.base_weight

    def as_dict(self, day: int) -> dict:
        """The truth-file record: sku, portal, title, horizon, weight on ``day``, direction and re-listings."""
        return {
            "sku": self.sku,
            "portal": self.portal,
            "title": self.title,
            "horizon": self.horizon,
            "weight": round(self.strength(day), 4),
            "direction": self.direction,
            "relisted": list(self.relisted),
        }


@dataclass
class World:
    """Everything the demo web serves. Build it with :func:`build_world`."""

    seed: int
    day: int
    products: list[Product]
    posts: list[Post]
    trends: list[PlantedTrend]
    images_dir: str | None = None
    _by_sku: dict[str, Product] = field(default_factory=dict, repr=False)
    _by_post: dict[str, Post] = field(default_factory=dict, repr=False)
    _cache: dict[str, bytes] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._by_sku = {p.sku: p for p in self.products}
        self._by_post = {p.post_id: p for p in self.posts}

    @property
    def date(self) -> date:
        """The world's calendar date (2026-11-01 + day)."""
        return EPOCH + timedelta(days=self.day)

    @property
    def planted(self) -> list[dict]:
        """The planted trends as truth records ({sku, portal, title, horizon, weight})."""
        return [t.as_dict(self.day) for t in self.trends]

    def product(self, sku: str) -> Product:
        """The product with ``sku`` (``KeyError`` if unknown)."""
        return self._by_sku[sku]

    def post(self, post_id: str) -> Post:
        """The post with ``post_id`` (``KeyError`` if unknown)."""
        return self._by_post[post_id]

    def products_of(self, portal: str) -> list[Product]:
        """The catalog of one portal, in sku order."""
        return [p for p in self.products if p.portal == portal]

    def posts_of(self, network: str) -> list[Post]:
        """The posts of one network, newest first."""
        return [p for p in self.posts if p.network == network]

    def image_bytes(self, image_id: str) -> bytes:
        """JPEG bytes of an image (``p-<sku>`` or ``s-<post_id>``), rendered on first use then cached.

        Raises:
            KeyError: unknown image id.
        """
        cached = self._cache.get(image_id)
        if cached is not None:
            return cached
        kind, _, key = image_id.partition("-")
        if kind == "p":
            prod = self._by_sku[key]
            data = (
                Path(prod.photo).read_bytes()
                if prod.photo
                else jpeg_bytes(render_product(prod.design), prod.image_quality)
            )
        elif kind == "s":
            post = self._by_post[key]
            rng = np.random.default_rng([self.seed, zlib.crc32(post.post_id.encode())])
            if post.photo:
                with Image.open(post.photo) as photo:
                    img = consumer_view_of_photo(photo, rng, POST_SIZE)
            else:
                img = render_consumer_view(post.design, rng, POST_SIZE)
            data = jpeg_bytes(img, int(rng.integers(72, 91)))
        else:
            raise KeyError(image_id)
        with self._lock:
            self._cache[image_id] = data
        return data

    def truth(self) -> dict:
        """The answer key for evaluation: seed, day, date, sizes, planted trends and their post counts."""
        counts: dict[str, dict[str, int]] = {t.sku: {"instagram": 0, "pinterest": 0} for t in self.trends}
        for p in self.posts:
            if p.planted_sku:
                counts[p.planted_sku][p.network] += 1
        return {
            "seed": self.seed,
            "day": self.day,
            "date": self.date.isoformat(),
            "n_products": len(self.products),
            "n_posts": len(self.posts),
            "planted": self.planted,
            "post_counts": counts,
        }
