"""A small loopback shop for the fault suite: N JSON-LD product pages with distinct images, optionally slow."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import jpeg_bytes
from tests.crawlers.loopback import Reply

ROOT = Path(__file__).resolve().parents[2]
PAGE = """<!DOCTYPE html><html><head><title>{title}</title>
<script type="application/ld+json">{{"@context":"https://schema.org","@type":"Product","name":"{title}",
"sku":"SKU-{i}","brand":{{"@type":"Brand","name":"Acme"}},"image":["{{base}}/img/{tag}{i}.jpg"],
"offers":{{"@type":"Offer","price":"{price}","priceCurrency":"GBP","availability":"https://schema.org/InStock"}}}}
</script></head><body><h1>{title}</h1></body></html>"""


def shop_routes(n: int, delay: float = 0.0, version: int = 0, image_tag: str = "") -> dict:
    """Routes of a shop of ``n`` products (``version`` changes titles, ``image_tag`` the image URLs and pixels)."""

    def slow(reply: Reply):
        def route(site, hit, path):
            time.sleep(delay)
            return reply

        return route if delay else reply

    urls = "".join(f"<url><loc>{{base}}/p/{i}.html</loc></url>" for i in range(n))
    routes = {
        "/robots.txt": Reply("User-agent: *\nDisallow: /private/\nSitemap: {base}/sitemap.xml\n", ctype="text/plain"),
        "/sitemap.xml": Reply(
            f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>',
            ctype="application/xml",
        ),  # fmt: skip
    }
    for i in range(n):
        title = f"Product {i} v{version}"
        routes[f"/p/{i}.html"] = slow(Reply(PAGE.format(title=title, i=i, price=10 + i, tag=image_tag)))
        colour = ((37 * i + 11 * len(image_tag)) % 256, (91 * i) % 256, (53 * i + 7) % 256)
        routes[f"/img/{image_tag}{i}.jpg"] = slow(Reply(jpeg_bytes(colour, (96, 128)), ctype="image/jpeg"))
    return routes


def source_entry(name: str, url: str) -> dict:
    """A registry entry crawling the loopback shop at ``url``."""
    return {"name": name, "kind": "portal", "spider": "jsonld_product", "allow_private": True,
            "args": {"sitemap_url": f"{url}/sitemap.xml", "product_url_contains": "/p/"}}  # fmt: skip


def tree_hash(root: Path, under: str = "") -> str:
    """sha256 over every relative path and file content under ``root/under``."""
    digest = hashlib.sha256()
    base = root / under
    for path in sorted(base.rglob("*")) if base.exists() else []:
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        if path.is_file() and not path.is_symlink():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def fti(*argv: str, wrap: list[str] | None = None, timeout: float = 120, **popen) -> subprocess.CompletedProcess:
    """Run ``fti ARGV`` as a process (optionally under ``wrap``), environment as this test's."""
    cmd = [*(wrap or []), sys.executable, "-m", "include.ops.cli", *argv]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=timeout, check=False,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, **popen)  # fmt: skip


def crawl_pids(marker: str) -> list[int]:
    """Pids of live ``crawlers.crawl`` processes whose command line holds ``marker`` (the source name)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            state = next((ln for ln in (proc / "status").read_text().splitlines() if ln.startswith("State:")), "")
        except OSError:
            continue
        if b"crawlers.crawl" in cmdline and marker.encode() in cmdline and "zombie" not in state:
            pids.append(int(proc.name))
    return pids
