"""``scrapy list`` shows every registry source; a source spider has its arguments and settings bound;
``scrapy check`` contracts run against a loopback site only."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from crawlers.spider_loader import SourceSpiderLoader
from include.core.sources import SPIDER_TYPES, load_registry
from tests.conftest import jpeg_bytes
from tests.crawlers.loopback import LoopbackSite, Reply, fixture

ROOT = Path(__file__).resolve().parents[2]
SCRAPY = [sys.executable, "-m", "scrapy.cmdline"]


def test_scrapy_list_shows_every_source_and_spider_type():
    assert (ROOT / "scrapy.cfg").exists()
    proc = subprocess.run([*SCRAPY, "list"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    listed = set(proc.stdout.split())
    names = {s.name for s in load_registry().sources}
    assert len(names) == 26  # 4 demo sources + the 22 sources of the product brief
    assert names | set(SPIDER_TYPES) == listed


def test_a_source_spider_has_its_arguments_and_settings_bound():
    settings = Settings()
    settings.setmodule("crawlers.settings")
    loader = SourceSpiderLoader.from_settings(settings)
    cls = loader.load("asos")
    assert cls.name == "asos" and cls.custom_settings["FTI_SOURCE"] == "asos"
    today = datetime.now(UTC).date().isoformat()
    assert cls.custom_settings["FTI_BATCH_PREFIX"] == f"batches/kind=portal/source=asos/dt={today}/"
    spider = cls.from_crawler(get_crawler(cls))  # no request is made
    assert spider.sitemap_urls == ["https://www.asos.com/product-sitemap-index-COM.xml"]
    blog = loader.load("fashion_vignette").from_crawler(get_crawler(loader.load("fashion_vignette")), max_pages=1)
    assert blog.feed_url.endswith("/feeds/posts/default") and blog.max_pages == 1  # -a arguments still win
    assert loader.load("jsonld_product").name == "jsonld_product"


def test_scrapy_check_contracts_run_against_loopback(use_sources, monkeypatch):
    routes = {
        "/robots.txt": Reply("User-agent: *\nAllow: /\n", ctype="text/plain"),
        "/p/good.html": Reply(fixture("retail_product.html")),
        "/img/coat-1.jpg": Reply(jpeg_bytes((90, 60, 30), (120, 160)), ctype="image/jpeg"),
        "/feed/": Reply(fixture("wordpress_feed.xml"), ctype="application/rss+xml"),
        "/articles/look-1.html": Reply(fixture("wordpress_article.html")),
    }
    with LoopbackSite(routes) as site:
        use_sources(
            {"name": "loopback_shop", "kind": "portal", "spider": "jsonld_product", "allow_private": True,
             "args": {"sitemap_url": f"{site.url}/sitemap.xml"}},
            {"name": "loopback_blog", "kind": "social", "horizon": "current", "spider": "feed_article",
             "allow_private": True, "args": {"feed_url": f"{site.url}/feed/"}},
        )  # fmt: skip
        env = {**os.environ, "FTI_CHECK_BASE_URL": site.url}
        proc = subprocess.run([*SCRAPY, "check", "loopback_shop", "loopback_blog"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Ran 5 contracts" in proc.stderr  # returns+scrapes, returns, returns+scrapes and "OK" in proc.stderr
    assert {"/p/good.html", "/feed/", "/articles/look-1.html"} <= set(site.paths())
