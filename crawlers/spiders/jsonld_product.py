"""Retail portals: sitemap-driven product pages, read through their embedded metadata (:mod:`crawlers.extract`)."""

from __future__ import annotations

from typing import Any

from scrapy.http import HtmlResponse, Request
from scrapy.spiders import SitemapSpider
from scrapy.utils.sitemap import sitemap_urls_from_robots

from crawlers.extract import FIELDS, NoProduct, extract_product
from crawlers.items import MediaItem
from crawlers.spiders.base import FTISpider


class JsonLdProductSpider(FTISpider, SitemapSpider):
    """Crawl a portal's sitemap and yield one item per product page.

    A product is read from schema.org JSON-LD, microdata or RDFa (``Product``, ``ProductGroup`` with its
    ``hasVariant`` products, ``Offer`` / ``AggregateOffer``) and Open Graph, through ``extruct`` and
    ``price-parser``; a page naming no image gets the largest image of its own product gallery.

    Args:
        sitemap_url: The portal's sitemap (or sitemap index) URL, or its ``robots.txt`` (the ``Sitemap:`` lines
            the site declares are read).
        product_url_contains: Only parse sitemap URLs matching this regex (default: all), e.g. ``/prd/``.
        sitemap_follow: Only follow sitemap-index entries — and ``Sitemap:`` lines of a ``robots.txt`` — matching
            this regex (default: all), e.g. ``product``.
    """

    name = "jsonld_product"

    def __init__(
        self, sitemap_url: str, product_url_contains: str = "", sitemap_follow: str = "", **kwargs: Any
    ) -> None:
        self.sitemap_urls = [sitemap_url]
        self.sitemap_rules = [(product_url_contains or "", "parse_product")]
        self.sitemap_follow = [sitemap_follow or ""]
        super().__init__(**kwargs)  # SitemapSpider compiles the rules set above

    def _parse_sitemap(self, response):
        """Scrapy's, except that a ``robots.txt``'s ``Sitemap:`` lines pass ``sitemap_follow`` too (sites declare
        one per locale and kind; Scrapy would follow them all)."""
        if response.url.endswith("/robots.txt"):
            urls = sitemap_urls_from_robots(response.body, base_url=response.url)
            return [Request(u, callback=self._parse_sitemap) for u in urls if any(f.search(u) for f in self._follow)]
        return super()._parse_sitemap(response)

    def parse_product(self, response):
        """Parse one product page.

        @loopback_url /p/good.html
        @returns items 1 1
        @scrapes product_id title price currency availability image_urls
        """
        self.page_seen()
        if not isinstance(response, HtmlResponse):
            self.skip("not-html", response.url)
            return
        try:
            found = extract_product(response.body, response.url, response.encoding)
        except NoProduct as exc:  # no schema.org product in any syntax and no Open Graph product
            self.skip(exc.reason, response.url)
            return
        if not found["image"]:
            self.skip("no-image", response.url)
            return
        fields = {k: found[k] for k in FIELDS if k != "image"}
        fields["product_id"] = fields["product_id"] or response.url
        yield MediaItem(image_urls=[found["image"]], **fields)
