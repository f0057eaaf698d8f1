"""Retail portals: sitemap-driven product pages carrying schema.org ``Product`` JSON-LD and Open Graph."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from scrapy.spiders import SitemapSpider

from crawlers.items import MediaItem
from crawlers.spiders.base import FTISpider


def iter_jsonld(texts: list[str]) -> Iterator[dict[str, Any]]:
    """Every JSON-LD object in the page's scripts (``@graph`` and lists flattened); bad JSON is skipped."""
    for text in texts:
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, TypeError):
            continue
        stack = data if isinstance(data, list) else [data]
        while stack:
            node = stack.pop(0)
            if isinstance(node, dict):
                yield node
                graph = node.get("@graph")
                if isinstance(graph, list):
                    stack.extend(graph)
            elif isinstance(node, list):
                stack.extend(node)


def find_product(texts: list[str]) -> dict[str, Any] | None:
    """The first schema.org Product in the JSON-LD scripts."""
    for node in iter_jsonld(texts):
        kind = node.get("@type")
        kinds = kind if isinstance(kind, list) else [kind]
        if "Product" in kinds:
            return node
    return None


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def product_fields(product: dict[str, Any]) -> dict[str, Any]:
    """Manifest fields from a Product node (name, sku, brand, image, offer price/currency/url/availability)."""
    brand = _first(product.get("brand"))
    offer = _first(product.get("offers")) or {}
    image = _first(product.get("image"))
    if isinstance(image, dict):
        image = image.get("url") or image.get("contentUrl")
    price = offer.get("price") if isinstance(offer, dict) else None
    try:
        price = float(price) if price is not None else None
    except (TypeError, ValueError):
        price = None
    return {
        "product_id": str(product.get("sku") or product.get("productID") or "") or None,
        "title": product.get("name"),
        "brand": brand.get("name") if isinstance(brand, dict) else brand,
        "price": price,
        "currency": offer.get("priceCurrency") if isinstance(offer, dict) else None,
        "page_url": offer.get("url") if isinstance(offer, dict) else None,
        "availability": availability(offer.get("availability") if isinstance(offer, dict) else None),
        "image": image,
    }


def availability(value: Any) -> str | None:
    """schema.org availability as its bare name (``https://schema.org/InStock`` -> ``InStock``)."""
    value = _first(value)
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().rstrip("/").rsplit("/", 1)[-1]


def open_graph_fields(response) -> dict[str, Any] | None:
    """Manifest fields from Open Graph product tags (``og:type`` product), the fallback without JSON-LD."""

    def meta(prop: str) -> str | None:
        value = response.xpath(f'//meta[@property="{prop}"]/@content').get()
        return value.strip() if value and value.strip() else None

    if (meta("og:type") or "").lower() not in ("product", "og:product", "product.item") or not meta("og:title"):
        return None
    try:
        price = float(meta("product:price:amount") or meta("og:price:amount") or "")
    except ValueError:
        price = None
    return {
        "product_id": meta("product:retailer_item_id"),
        "title": meta("og:title"),
        "brand": meta("product:brand") or meta("og:brand"),
        "price": price,
        "currency": meta("product:price:currency") or meta("og:price:currency"),
        "page_url": meta("og:url"),
        "availability": availability(meta("product:availability") or meta("og:availability")),
        "image": None,  # og:image below
    }


class JsonLdProductSpider(FTISpider, SitemapSpider):
    """Crawl a portal's sitemap and yield one item per product page.

    Args:
        sitemap_url: The portal's sitemap (or sitemap index) URL.
        product_url_contains: Only parse sitemap URLs matching this regex (default: all), e.g. ``/prd/``.
        sitemap_follow: Only follow sitemap-index entries matching this regex (default: all), e.g. ``product``.

    A ``sitemap_url`` ending in ``/robots.txt`` reads the site's declared ``Sitemap:`` lines.
    """

    name = "jsonld_product"

    def __init__(
        self, sitemap_url: str, product_url_contains: str = "", sitemap_follow: str = "", **kwargs: Any
    ) -> None:
        self.sitemap_urls = [sitemap_url]
        self.sitemap_rules = [(product_url_contains or "", "parse_product")]
        self.sitemap_follow = [sitemap_follow or ""]
        super().__init__(**kwargs)  # SitemapSpider compiles the rules set above

    def parse_product(self, response):
        """Parse one product page.

        @loopback_url /p/good.html
        @returns items 1 1
        @scrapes product_id title price currency availability image_urls
        """
        self.page_seen()
        product = find_product(response.xpath('//script[@type="application/ld+json"]/text()').getall())
        fields = product_fields(product) if product is not None else open_graph_fields(response)
        if fields is None:
            self.skip("no-jsonld", response.url)  # neither a JSON-LD Product nor an Open Graph product
            return
        image = fields.pop("image") or response.xpath('//meta[@property="og:image"]/@content').get()
        if not image:
            self.skip("no-image", response.url)
            return
        if not fields["page_url"]:
            fields["page_url"] = response.url
        fields["product_id"] = fields["product_id"] or response.url
        yield MediaItem(image_urls=[response.urljoin(image)], **fields)
