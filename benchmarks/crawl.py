"""``make bench-crawl``: our full crawl pipeline next to a fetch-only Scrapy spider, on the same loopback shop.

The shop (served from memory on 127.0.0.1, HTTP/1.0) has a sitemap, ``--pages`` product pages with schema.org
JSON-LD and one JPEG each. Both crawls run in their own process with politeness off (no delay, no AutoThrottle,
8 concurrent requests per domain):

* **ours**: ``python -m crawlers.crawl`` — guard, robots.txt, JSON-LD parsing, the hardened images pipeline (decode,
  checks, sha256, RGB JPEG re-encode, lake write, meta sidecar) and the manifest (parquet) + health;
* **fetch-only**: a plain Scrapy spider fetching the same sitemap, pages and images, no pipelines;
* **ours, recrawl**: the same source again on another date — every image is reused from its sidecar.

Times are the crawls' own (spider open to close), not process start-up. Prints pages/s, images/s and the ratio
ours / fetch-only (goal: <= 1.5).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import scrapy


def build_shop(pages: int, side: int) -> dict[str, tuple[bytes, str]]:
    """Path -> (body, content type) of a shop with ``pages`` product pages and images."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    site: dict[str, tuple[bytes, str]] = {"/robots.txt": (b"User-agent: *\nAllow: /\n", "text/plain")}
    locs = []
    for i in range(pages):
        pixels = rng.integers(0, 255, (side * 4 // 3 // 16, side // 16, 3), dtype=np.uint8)
        img = Image.fromarray(pixels).resize((side, side * 4 // 3), Image.Resampling.BILINEAR)
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=88)
        site[f"/img/{i}.jpg"] = (buf.getvalue(), "image/jpeg")
        product = {"@context": "https://schema.org", "@type": "Product", "name": f"Product {i}", "sku": f"SKU-{i}",
                   "brand": {"@type": "Brand", "name": "Bench"}, "image": [f"{{base}}/img/{i}.jpg"],
                   "offers": {"@type": "Offer", "price": f"{10 + i % 90}.00", "priceCurrency": "GBP",
                              "availability": "https://schema.org/InStock"}}  # fmt: skip
        html = (f'<html><head><meta property="og:image" content="{{base}}/img/{i}.jpg">'
                f'<script type="application/ld+json">{json.dumps(product)}</script></head>'
                f"<body><h1>Product {i}</h1>{'<p>filler text</p>' * 40}</body></html>")  # fmt: skip
        site[f"/p/{i}.html"] = (html.encode(), "text/html")
        locs.append(f"<url><loc>{{base}}/p/{i}.html</loc></url>")
    sitemap = '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + "".join(locs) + "</urlset>"
    site["/sitemap.xml"] = (sitemap.encode(), "application/xml")
    return site


def serve(site: dict[str, tuple[bytes, str]]) -> tuple[ThreadingHTTPServer, str]:
    """Serve ``site`` on 127.0.0.1 (a free port) in a daemon thread; returns the server and its base URL."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, *args):
            pass

        def do_GET(self):
            body, ctype = site.get(self.path, (b"not found", "text/plain"))
            body = body.replace(b"{base}", base.encode())
            self.send_response(200 if self.path in site else 404)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    class Server(ThreadingHTTPServer):
        request_queue_size = 128  # a burst of connections must not overflow the listen backlog
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, base


class FetchOnlySpider(scrapy.Spider):
    """Fetch the sitemap, every page and its og:image; parse nothing else, store nothing."""

    name = "fetch_only"
    custom_settings = {
        "ITEM_PIPELINES": {}, "ROBOTSTXT_OBEY": True, "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 8, "LOG_LEVEL": "WARNING",
    }  # fmt: skip

    def __init__(self, sitemap_url: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.start_urls = [sitemap_url]

    def parse(self, response):  # noqa: D102
        for url in response.xpath('//*[local-name()="loc"]/text()').getall():
            yield scrapy.Request(url, callback=self.parse_page)

    def parse_page(self, response):  # noqa: D102
        self.crawler.stats.inc_value("bench/pages")
        yield scrapy.Request(response.urljoin(response.xpath('//meta[@property="og:image"]/@content').get()),
                             callback=self.parse_image)  # fmt: skip

    def parse_image(self, response):  # noqa: D102
        self.crawler.stats.inc_value("bench/images")


def fetch_only(sitemap_url: str) -> dict:
    """Run the fetch-only spider in this process; its elapsed time and counts."""
    from scrapy.crawler import CrawlerProcess

    process = CrawlerProcess({"USER_AGENT": "FTI-bench", "TELNETCONSOLE_ENABLED": False, "LOG_LEVEL": "WARNING"})
    crawler = process.create_crawler(FetchOnlySpider)
    process.crawl(crawler, sitemap_url=sitemap_url)
    process.start()
    stats = crawler.stats.get_stats()
    return {"seconds": stats["elapsed_time_seconds"], "pages": stats.get("bench/pages", 0),
            "images": stats.get("bench/images", 0)}  # fmt: skip


def child_cpu() -> float:
    """CPU seconds (user + system) used by finished child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def ours(dt: str, env: dict[str, str]) -> dict:
    """Our crawl of the bench source in a child process."""
    started, cpu = time.monotonic(), child_cpu()
    proc = subprocess.run([sys.executable, "-m", "crawlers.crawl", "--source", "bench_shop", "--dt", dt], env=env,
                          capture_output=True, text=True, check=False)  # fmt: skip
    wall, cpu = time.monotonic() - started, child_cpu() - cpu
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode or not lines:
        raise RuntimeError(f"crawl failed: {proc.stderr[-3000:]}")
    summary = json.loads(lines[-1])
    health = summary["health"]
    return {"seconds": summary["elapsed_s"], "wall": wall, "cpu": cpu, "pages": health["pages"],
            "images": health["images_stored"], "downloaded": health["images_downloaded"],
            "reused": health["images_reused"]}  # fmt: skip


def row(label: str, result: dict) -> str:
    """One table line: pages/s and images/s."""
    s = max(result["seconds"], 1e-9)
    return (f"| {label:<22} | {result['seconds']:7.2f} s | {result['wall']:7.2f} s | {result['cpu']:7.2f} s |"
            f" {result['pages'] / s:8.1f} | {result['images'] / s:8.1f} | {result['pages']:5d} |"
            f" {result['images']:6d} |")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    """Build the shop, run both crawls, print the table and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--side", type=int, default=480, help="image width in pixels (height 4/3 of it)")
    parser.add_argument("--fetch-only", metavar="SITEMAP_URL", help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args(argv)
    if args.fetch_only:
        print(json.dumps(fetch_only(args.fetch_only)), flush=True)
        return
    site = build_shop(args.pages, args.side)
    server, base = serve(site)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            sources = Path(tmp) / "sources.yaml"
            source = {"name": "bench_shop", "kind": "portal", "spider": "jsonld_product", "allow_private": True,
                      "args": {"sitemap_url": f"{base}/sitemap.xml"}}  # fmt: skip
            sources.write_text(json.dumps({"sources": [source]}))
            env = {**os.environ, "FTI_SOURCES_FILE": str(sources), "FTI_LAKE": str(Path(tmp) / "lake"),
                   "FTI_LOOPBACK_ONLY": "1", "FTI_HTTP_CACHE": "0"}  # fmt: skip
            started, cpu = time.monotonic(), child_cpu()
            proc = subprocess.run([sys.executable, "-m", "benchmarks.crawl", "--fetch-only", f"{base}/sitemap.xml"],
                                  env=env, capture_output=True, text=True, check=True)  # fmt: skip
            base_result = {**json.loads(proc.stdout.strip().splitlines()[-1]), "wall": time.monotonic() - started,
                           "cpu": child_cpu() - cpu}  # fmt: skip
            first = ours("2026-11-01", env)
            again = ours("2026-11-02", env)
            total = time.monotonic() - started
    finally:
        server.shutdown()
    image_mb = sum(len(b) for p, (b, _) in site.items() if p.startswith("/img/")) / 2**20
    print(f"loopback shop: {args.pages} pages, {args.pages} JPEGs {args.side}x{args.side * 4 // 3} "
          f"({image_mb:.1f} MiB), politeness off; {os.cpu_count()} CPUs; wall {total:.0f} s")  # fmt: skip
    print("| crawl                  | crawl     | process   | CPU       | pages/s  | images/s | pages | images |")
    print("| ---------------------- | --------- | --------- | --------- | -------- | -------- | ----- | ------ |")
    print(row("fetch-only Scrapy", base_result))
    print(row("ours (full pipeline)", first))
    print(row("ours, recrawl (reuse)", again) + f" ({again['downloaded']} downloaded, {again['reused']} reused)")
    ratio = first["seconds"] / max(base_result["seconds"], 1e-9)
    print("crawl = spider open to close (Scrapy's elapsed_time_seconds); process = wall time with start-up;")
    print("CPU = user+system seconds of the crawl process (start-up included), robust when other work shares the CPUs")
    print(f"ratio ours / fetch-only (crawl time): {ratio:.2f}x (goal <= 1.5x) -> {'OK' if ratio <= 1.5 else 'ABOVE'};"
          f" process time: {first['wall'] / base_result['wall']:.2f}x;"
          f" CPU: {first['cpu'] / base_result['cpu']:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
