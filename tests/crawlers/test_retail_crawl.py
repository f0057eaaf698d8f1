"""A real crawl of a loopback retailer: robots.txt obeyed, JSON-LD and Open Graph products with availability, the
development HTTP cache, and the per-crawl byte budget."""

from __future__ import annotations

import pandas as pd
import pytest

from crawlers.crawl import crawl_source
from include.core.layout import MANIFEST, batch_prefix
from tests.conftest import jpeg_bytes
from tests.crawlers.loopback import LoopbackSite, Reply, fixture

SITEMAP = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>{base}/p/coat-1.html</loc><lastmod>2026-11-20</lastmod></url>
<url><loc>{base}/p/shirt-2.html</loc><lastmod>2026-11-21</lastmod></url>
<url><loc>{base}/p/private/staff-sale.html</loc></url>
</urlset>"""


@pytest.fixture
def shop(use_sources, tmp_path, monkeypatch):
    routes = {
        "/robots.txt": Reply("User-agent: *\nDisallow: /p/private/\nSitemap: {base}/sitemap.xml\n", ctype="text/plain"),
        "/sitemap.xml": Reply(SITEMAP, ctype="application/xml"),
        "/p/coat-1.html": Reply(fixture("retail_product.html")),
        "/p/shirt-2.html": Reply(fixture("retail_product_og_only.html")),
        "/p/private/staff-sale.html": Reply(fixture("retail_product.html")),
        "/img/coat-1.jpg": Reply(jpeg_bytes((90, 60, 30), (120, 160)), ctype="image/jpeg"),
        "/img/shirt-2.jpg": Reply(jpeg_bytes((230, 230, 210), (120, 160)), ctype="image/jpeg"),
    }
    monkeypatch.setenv("FTI_HTTP_CACHE", "1")
    monkeypatch.setenv("FTI_HTTP_CACHE_DIR", str(tmp_path / "httpcache"))
    with LoopbackSite(routes) as site:
        use_sources({"name": "loopback_retail", "kind": "portal", "spider": "jsonld_product", "allow_private": True,
                     "args": {"sitemap_url": f"{site.url}/sitemap.xml", "product_url_contains": "/p/"}})  # fmt: skip
        yield site


def test_retail_crawl_obeys_robots_keeps_availability_replays_cache_and_stops_at_byte_budget(shop, monkeypatch):
    from include.core.settings import get_settings

    first = crawl_source("loopback_retail", "2026-11-01")
    assert not [p for p in shop.paths() if p.startswith("/p/private/")]  # robots.txt disallows it: never fetched
    prefix = batch_prefix("portal", "loopback_retail", "2026-11-01")
    manifest = pd.read_parquet(f"{get_settings().lake}/{prefix}{MANIFEST}")
    rows = manifest.set_index("product_id")[["title", "brand", "price", "currency", "availability"]].to_dict("index")
    assert rows == {
        "COAT-1": {"title": "Wool-blend double-breasted coat", "brand": "Acme", "price": 189.0, "currency": "GBP",
                   "availability": "OutOfStock"},  # JSON-LD
        "SHIRT-2": {"title": "Relaxed linen shirt", "brand": "Acme", "price": 59.0, "currency": "GBP",
                    "availability": "InStock"},  # Open Graph product tags ("in stock"), no JSON-LD
    }  # fmt: skip
    assert first["health"]["http_cache_hits"] == 0 and first["health"]["stopped"] is None

    served = len(shop.requests)
    monkeypatch.setenv("FTI_MAX_BYTES_PER_CRAWL", "300")  # robots.txt fits, the sitemap exceeds it
    get_settings.cache_clear()
    second = crawl_source("loopback_retail", "2026-11-02")
    health = second["health"]
    assert health["http_cache_hits"] >= 2 and len(shop.requests) == served  # replayed from the cache
    assert health["stopped"] == "max-bytes" and second["finish_reason"] == "max_bytes"
    assert second["rows"] == 0 and health["responses"] < first["health"]["responses"]
