"""Every skip names its cause, is counted in health.json, and is one line of the batch's skips.jsonl."""

from __future__ import annotations

import io
import json

import numpy as np
from PIL import Image

from crawlers.crawl import crawl_source
from include.core.lake import LocalLake
from include.core.layout import HEALTH, SKIPS, batch_prefix
from tests.conftest import jpeg_bytes
from tests.crawlers.loopback import LoopbackSite, Reply
from tests.faults.shop import PAGE


def noise_jpeg(side: int = 400) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (side, side, 3), dtype=np.uint8)).save(buf, "JPEG")
    return buf.getvalue()


def page(i: int, image: str) -> Reply:
    return Reply(PAGE.format(title=f"Product {i}", i=i, price=10, tag="").replace(f"/img/{i}.jpg", image))


def test_skip_reasons_name_the_cause(use_sources, monkeypatch):
    from include.core.settings import get_settings

    pages = ["good", "gone", "bad-jsonld", "none", "img-404", "img-429", "img-big", "private/x"]
    urls = "".join(f"<url><loc>{{base}}/p/{p}.html</loc></url>" for p in pages)
    routes = {
        "/robots.txt": Reply("User-agent: *\nDisallow: /p/private/\n", ctype="text/plain"),
        "/sitemap.xml": Reply(
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>', ctype="application/xml"
        ),  # fmt: skip
        "/p/good.html": page(1, "/img/good.jpg"),
        "/p/bad-jsonld.html": Reply('<html><script type="application/ld+json">{"@type": "Product", oops</script>'),
        "/p/none.html": Reply("<html><head><title>About us</title></head><body>hello</body></html>"),
        "/p/img-404.html": page(2, "/img/missing.jpg"),
        "/p/img-429.html": page(3, "/img/limited.jpg"),
        "/p/img-big.html": page(4, "/img/big.jpg"),
        "/img/good.jpg": Reply(jpeg_bytes((10, 200, 30), (96, 96)), ctype="image/jpeg"),
        "/img/limited.jpg": Reply(b"slow down", 429, "text/plain"),
        "/img/big.jpg": Reply(noise_jpeg(), ctype="image/jpeg"),
    }
    monkeypatch.setenv("FTI_MAX_IMAGE_BYTES", "40000")
    monkeypatch.setenv("FTI_RETRY_AFTER_MAX_SECONDS", "0.2")
    with LoopbackSite(routes) as site:
        use_sources({"name": "skip_shop", "kind": "portal", "spider": "jsonld_product", "allow_private": True,
                     "args": {"sitemap_url": f"{site.url}/sitemap.xml", "product_url_contains": "/p/"}})  # fmt: skip
        summary = crawl_source("skip_shop", "2026-11-01")
    lake = LocalLake(get_settings().lake)
    prefix = batch_prefix("portal", "skip_shop", "2026-11-01")
    health = json.loads(lake.read_text(prefix + HEALTH))
    expected = {"http-404": 2, "bad-jsonld": 1, "no-product": 1, "http-429": 1, "over-max-size": 1,
                "robots-disallowed": 1}  # fmt: skip
    assert health["skipped"] == expected and summary["rows"] == 1
    lines = [json.loads(line) for line in lake.read_text(prefix + SKIPS).splitlines()]
    by_reason: dict[str, list[str]] = {}
    for line in lines:
        by_reason.setdefault(line["reason"], []).append(line["url"].replace(site.url, ""))
    assert {k: sorted(v) for k, v in by_reason.items()} == {
        "bad-jsonld": ["/p/bad-jsonld.html"], "http-404": ["/img/missing.jpg", "/p/gone.html"],
        "http-429": ["/img/limited.jpg"], "no-product": ["/p/none.html"], "over-max-size": ["/img/big.jpg"],
        "robots-disallowed": ["/p/private/x.html"],
    }  # fmt: skip
