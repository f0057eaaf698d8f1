"""``make bench-bot-wall``: how soon a bot-walled source stops, at production politeness.

A loopback shop (robots.txt allows everything, a sitemap of ``--pages`` product pages) whose every product page is
refused, in two ways a real bot wall answers: **403** (Akamai, DataDome) and a **200 challenge page** ("Just a
moment…", ``/cdn-cgi/challenge-platform/``) served after ``--latency`` seconds, as interstitials are. Each scenario is
one real crawl (``crawlers.crawl.scrapy_settings`` of a registry source, then the *production* politeness put back:
``DOWNLOAD_DELAY`` 0.25 s, AutoThrottle from 0.5 s, 2 requests per domain — a loopback source would otherwise crawl
without delay) in its own process. Prints, per scenario: seconds from start to close, product pages requested,
the finish reason and the health's status line. Goal: stopped within 60 s, and said so.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

PRODUCTION = {"DOWNLOAD_DELAY": 0.25, "AUTOTHROTTLE_ENABLED": True, "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
              "FTI_RETRY_BACKOFF_BASE": 1.0}  # fmt: skip
CHALLENGE = (b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body><script>"
             b"window._cf_chl_opt={cType:'managed'};</script><script src='/cdn-cgi/challenge-platform/h/b/orchestrate/"
             b"chl_page/v1'></script></body></html>")  # fmt: skip


def serve(pages: int, mode: str, latency: float) -> tuple[ThreadingHTTPServer, list[str]]:
    """The walled shop on 127.0.0.1 (a free port); returns the server and the list of paths it is asked for."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, *args):
            pass

        def do_GET(self):
            seen.append(self.path)
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            status, body, ctype = 200, b"", "text/html; charset=utf-8"
            if self.path == "/robots.txt":
                body, ctype = b"User-agent: *\nAllow: /\n", "text/plain"
            elif self.path == "/sitemap.xml":
                locs = "".join(f"<url><loc>{base}/p/{i}.html</loc></url>" for i in range(pages))
                body = f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>'.encode()
                ctype = "application/xml"
            elif mode == "403":
                status, body = 403, b"<html><head><title>Access Denied</title></head><body>Forbidden</body></html>"
            else:
                time.sleep(latency)
                body = CHALLENGE
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, seen


def child(source: str, dt: str) -> None:
    """One crawl in this process with production politeness; prints its summary as JSON."""
    from scrapy.crawler import CrawlerProcess

    from crawlers.crawl import scrapy_settings

    settings, spider_cls, kwargs = scrapy_settings(source, dt)
    settings.setdict(PRODUCTION, priority="cmdline")
    process = CrawlerProcess(settings, install_root_handler=False)
    crawler = process.create_crawler(spider_cls)
    process.crawl(crawler, **kwargs)
    process.start()
    health = crawler.stats.get_value("fti/health") or {}
    refused = health.get("skipped", {}).get("blocked-by-site")
    summary = {"finish_reason": crawler.stats.get_value("finish_reason"), "status": health.get("status"),
               "stopped": health.get("stopped"), "refusals_counted": refused}  # fmt: skip
    print(json.dumps(summary))


def scenario(mode: str, pages: int, latency: float, workdir: Path) -> dict:
    """Serve the walled shop, crawl it in a child process, measure."""
    server, seen = serve(pages, mode, latency)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    registry = workdir / f"sources-{mode}.yaml"
    name = f"walled_{mode}"
    source = {"name": name, "kind": "portal", "spider": "jsonld_product", "allow_private": True,
              "args": {"sitemap_url": f"{url}/sitemap.xml"}}  # fmt: skip
    registry.write_text(yaml.safe_dump({"sources": [source]}))
    env = {**os.environ, "FTI_SOURCES_FILE": str(registry), "FTI_LAKE": str(workdir / "lake"), "FTI_LOOPBACK_ONLY": "1"}
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "benchmarks.bot_wall", "--child", name], env=env, capture_output=True,
                          text=True, timeout=600, check=False)  # fmt: skip
    elapsed = time.monotonic() - started
    server.shutdown()
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    result = json.loads(lines[-1]) if lines else {"error": proc.stderr[-2000:]}
    return {"mode": mode, "latency_s": latency if mode != "403" else 0.0, "sitemap_pages": pages,
            "seconds_to_stop": round(elapsed, 1), "product_pages_requested": sum(p.startswith("/p/") for p in seen),
            **result}  # fmt: skip


def main(argv: list[str] | None = None) -> dict:
    """Run both scenarios (or the ``--child`` crawl) and print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=2000, help="product pages in the walled shop's sitemap")
    parser.add_argument("--latency", type=float, default=1.5, help="seconds a challenge page takes to arrive")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, "2026-12-01")
        return {}
    with tempfile.TemporaryDirectory() as tmp:
        runs = [scenario("403", args.pages, 0.0, Path(tmp)), scenario("challenge", args.pages, args.latency, Path(tmp))]
    result = {"scenarios": runs, "politeness": PRODUCTION, "load_average": os.getloadavg()}
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return result


if __name__ == "__main__":
    main()
