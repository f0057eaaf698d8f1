"""The outbound guard: address classification (no connection made) and real crawls refused on loopback."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from crawlers.crawl import crawl_source
from crawlers.guard import host_is_private, is_private_address
from tests.conftest import jpeg_bytes


@pytest.mark.parametrize(
    "address, private",
    [
        ("10.1.2.3", True), ("172.16.0.9", True), ("192.168.1.1", True), ("127.0.0.1", True),
        ("127.0.0.2", True), ("169.254.169.254", True), ("100.64.0.1", True), ("0.0.0.0", True),
        ("::1", True), ("fe80::1", True), ("fd00::1", True), ("::ffff:10.0.0.1", True),
        ("8.8.8.8", False), ("151.101.1.1", False), ("2a00:1450:4001::1", False),
    ],
)  # fmt: skip
def test_address_classification(address, private):
    assert is_private_address(address) is private


def test_dns_names_are_judged_by_every_address_they_resolve_to():
    answers = {"metadata.internal": ["169.254.169.254"], "cdn.example": ["151.101.1.1"],
               "split.example": ["151.101.1.1", "10.0.0.5"], "nowhere.example": []}  # fmt: skip
    resolver = answers.__getitem__  # no DNS query leaves the machine
    assert host_is_private("metadata.internal", resolver)
    assert not host_is_private("cdn.example", resolver)
    assert host_is_private("split.example", resolver)
    assert not host_is_private("nowhere.example", resolver)


class _Shop(BaseHTTPRequestHandler):
    """Products whose page or image redirects to 127.0.0.2, a loopback host the source does not allow."""

    def log_message(self, *args):
        pass

    def _redirect_to_other_loopback(self, status: int, path: str) -> None:
        self.send_response(status)
        self.send_header("Location", f"http://127.0.0.2:{self.server.server_address[1]}{path}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        if self.path == "/robots.txt":
            body, ctype = b"User-agent: *\nAllow: /\n", "text/plain"
        elif self.path == "/sitemap.xml":
            names = ("good", "redirect", "moved")
            locs = "".join(f"<url><loc>{base}/p/{n}.html</loc></url>" for n in names)
            body = f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>'.encode()
            ctype = "application/xml"
        elif self.path == "/p/moved.html":
            return self._redirect_to_other_loopback(301, "/p/good.html")
        elif self.path.startswith("/p/"):
            name = self.path[3:-5]
            product = {"@type": "Product", "name": name, "sku": name, "image": f"{base}/img/{name}.jpg"}
            body = f'<script type="application/ld+json">{json.dumps(product)}</script>'.encode()
            ctype = "text/html"
        elif self.path == "/img/good.jpg":
            body, ctype = jpeg_bytes(size=(120, 120)), "image/jpeg"
        elif self.path == "/img/redirect.jpg":
            return self._redirect_to_other_loopback(302, "/img/good.jpg")
        else:
            body, ctype = b"not found", "text/plain"
        self.send_response(200 if ctype != "text/plain" or self.path == "/robots.txt" else 404)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def shop():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Shop)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def use_registry(tmp_path, monkeypatch, url, allow_private):
    from include.core.settings import get_settings

    source = {"name": "loopback_shop", "kind": "portal", "spider": "jsonld_product", "allow_private": allow_private,
              "args": {"sitemap_url": f"{url}/sitemap.xml"}}  # fmt: skip
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump({"sources": [source]}))
    monkeypatch.setenv("FTI_SOURCES_FILE", str(path))
    get_settings.cache_clear()


def test_redirect_to_a_host_the_source_does_not_allow_is_refused(tmp_path, monkeypatch, shop):
    use_registry(tmp_path, monkeypatch, shop, allow_private=True)
    summary = crawl_source("loopback_shop", "2026-11-01")
    assert summary["rows"] == 1  # the good product; its own host 127.0.0.1 is allowed
    assert summary["health"]["skipped"] == {"blocked-address": 2}  # a page redirect and an image redirect


def test_private_sources_are_refused_unless_allowed(tmp_path, monkeypatch, shop):
    use_registry(tmp_path, monkeypatch, shop, allow_private=False)
    summary = crawl_source("loopback_shop", "2026-11-01")
    assert summary["rows"] == 0 and summary["health"]["responses"] == 0
    assert summary["health"]["skipped"]["blocked-address"] >= 1
