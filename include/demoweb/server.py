"""The demo web: a threaded stdlib HTTP server on 127.0.0.1 that plays two shops and two social APIs.

Routes (absolute URLs are built from the request's ``Host`` header):

- ``/robots.txt``, ``/health``, ``/truth.json``
- ``/shop/<portal>/sitemap.xml`` and ``/shop/<portal>/p/<sku>.html`` (schema.org Product JSON-LD, og:image)
- ``/img/<image_id>.jpg`` (``p-<sku>`` product shots, ``s-<post_id>`` social photos; ``?size=150x150`` thumbs)
- ``/social/instagram/v21.0/ig_hashtag_search`` and ``/social/instagram/v21.0/<hashtag_id>/recent_media``
  (Instagram Graph API shapes, cursor paging)
- ``/social/pinterest/v5/search/pins`` (Pinterest API v5 shapes, bookmark paging, Bearer auth)

With ``faults=True`` it also serves broken things crawlers must survive (see ``FAULT_SKUS``), a feed item
without ``media_url`` and one HTTP 429 on the first request for a second page of an instagram feed.
"""

from __future__ import annotations

import base64
import html
import io
import json
import logging
import re
import signal
import struct
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode

from PIL import Image

from include.demoweb.apparel import Design, jpeg_bytes, render_product
from include.demoweb.world import PORTALS, POST_SIZE, Post, Product, World, build_world

log = logging.getLogger(__name__)
FAULT_SKUS = (
    "fault-nojsonld",
    "fault-img404",
    "fault-truncated",
    "fault-html-as-jpeg",
    "fault-bomb",
    "fault-tiny",
)
FAULT_POST_ID = "17999999999999999"
IG_BASE, PIN_BASE = "/social/instagram/v21.0", "/social/pinterest/v5"
IG_AUTH_ERROR = {"error": {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190}}
_HOST_OK = re.compile(r"^[A-Za-z0-9.\-\[\]:]+$")


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _offset(cursor: str | None) -> int:
    """Decode a cursor/bookmark (``ValueError`` if malformed)."""
    if not cursor:
        return 0
    text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    if not text.startswith("offset:"):
        raise ValueError(cursor)
    return max(0, int(text.removeprefix("offset:")))


def _tag_id(tag: str) -> str:
    return str(17843000000000000 + zlib.crc32(tag.encode()) % 10**9)


def _bomb_png() -> bytes:
    """A tiny PNG whose header claims 30000 x 30000 pixels (a decompression bomb for naive decoders)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)  # 8-bit RGB
    idat = zlib.compress(b"\0" * 4096)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


class _App:
    """Shared state of one running demo web: the world, fault switches and hashtag registry."""

    def __init__(self, world: World, faults: bool) -> None:
        self.world, self.faults = world, faults
        self.lock = threading.Lock()
        self.rate_limited_once = False
        design = Design("tshirt", "Red", "White", "stripes", "horizontal", 20)
        desc = "A product page that misbehaves on purpose."
        self.fault_products = {
            sku: Product(
                sku,
                "boutique",
                f"Test tee ({sku})",
                "Maison Verre",
                9.99,
                "GBP",
                "tshirt",
                f"p-{sku}",
                desc,
                design,
            )
            for sku in (FAULT_SKUS if faults else ())
        }
        tags = {"streetstyle", "emptytag"}.union(*(_hashtags(p) for p in world.posts_of("instagram")))
        self.tags = {_tag_id(t): t for t in tags}

    def feed(self, tag: str) -> list[Post | None]:
        """Instagram posts under a hashtag, newest first (``None`` marks the fault item without media)."""
        if tag == "emptytag":
            return []
        posts: list[Post | None] = [
            p for p in self.world.posts_of("instagram") if tag == "streetstyle" or tag in _hashtags(p)
        ]
        if self.faults and tag == "streetstyle":
            posts.insert(min(2, len(posts)), None)  # the fault album, dated like its neighbour
        return posts


def _hashtags(post: Post) -> set[str]:
    return {w[1:].lower() for w in post.caption.split() if w.startswith("#")}


class _Handler(BaseHTTPRequestHandler):
    app: _App
    # HTTP/1.0: one request per connection. With keep-alive, Twisted (Scrapy) clients stalled for the full
    # 30 s download timeout on some pooled connections of this thread-per-connection server.
    protocol_version = "HTTP/1.0"
    server_version = "DemoWeb/1.0"
    timeout = 60

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    # -- plumbing ------------------------------------------------------------------------------------------
    def do_GET(self) -> None:
        self._dispatch(head=False)

    def do_HEAD(self) -> None:
        self._dispatch(head=True)

    def _dispatch(self, head: bool) -> None:
        self._head = head
        path, _, query = self.path.partition("?")
        self.query = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        try:
            for pattern, name in _ROUTES:
                m = pattern.match(path)
                if m:
                    getattr(self, name)(**m.groupdict())
                    return
            self._send(404, b"Not Found\n", "text/plain; charset=utf-8")
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception:  # a bug must not kill the server thread
            log.exception("demo web error on %s", self.path)
            self._send(500, b"Internal Server Error\n", "text/plain; charset=utf-8")

    def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if not self._head:
            self.wfile.write(body)

    def _json(self, status: int, obj: object, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(obj).encode(), "application/json; charset=utf-8", headers)

    @property
    def base(self) -> str:
        host = self.headers.get("Host", "")
        if not _HOST_OK.match(host):
            host = "{}:{}".format(*self.server.server_address[:2])
        return f"http://{host}"

    # -- site ----------------------------------------------------------------------------------------------
    def robots(self) -> None:
        self._send(200, b"User-agent: *\nAllow: /\n", "text/plain; charset=utf-8")

    def health(self) -> None:
        self._send(200, b"ok", "text/plain; charset=utf-8")

    def truth(self) -> None:
        self._json(200, self.app.world.truth())

    def sitemap(self, portal: str) -> None:
        if portal not in PORTALS:
            return self._send(404, b"Not Found\n", "text/plain; charset=utf-8")
        skus = [p.sku for p in self.app.world.products_of(portal)]
        if portal == "boutique":
            skus += list(self.app.fault_products)
        urls = "".join(f"<url><loc>{self.base}/shop/{portal}/p/{s}.html</loc></url>\n" for s in skus)
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{urls}</urlset>\n'
        )
        self._send(200, body.encode(), "application/xml; charset=utf-8")

    def _find_product(self, portal: str, sku: str) -> Product | None:
        prod = self.app.fault_products.get(sku) if portal == "boutique" else None
        if prod is None:
            try:
                prod = self.app.world.product(sku)
            except KeyError:
                return None
        return prod if prod.portal == portal else None

    def product_page(self, portal: str, sku: str) -> None:
        prod = self._find_product(portal, sku)
        if prod is None:
            return self._send(404, b"<html><body><h1>Product not found</h1></body></html>", "text/html")
        self._send(
            200,
            _product_html(prod, self.base, with_meta=sku != "fault-nojsonld").encode(),
            "text/html; charset=utf-8",
        )

    def image(self, image_id: str) -> None:
        jpeg = "image/jpeg"
        if image_id.startswith("p-fault-") and self.app.faults:
            sku = image_id[2:]
            prod = self.app.fault_products.get(sku)
            if sku == "fault-truncated" and prod:
                data = jpeg_bytes(render_product(prod.design), 90)
                return self._send(200, data[: len(data) // 2], jpeg)
            if sku == "fault-html-as-jpeg":
                return self._send(200, b"<html><body><h1>Access denied</h1></body></html>", jpeg)
            if sku == "fault-bomb":
                return self._send(200, _bomb_png(), "image/png")
            if sku == "fault-tiny" and prod:
                return self._send(200, jpeg_bytes(render_product(prod.design, (16, 16)), 90), jpeg)
            return self._send(404, b"Not Found\n", "text/plain; charset=utf-8")
        try:
            data = self.app.world.image_bytes(image_id)
        except KeyError:
            return self._send(404, b"Not Found\n", "text/plain; charset=utf-8")
        m = re.fullmatch(r"(\d{1,4})x(\d{1,4})", self.query.get("size", ""))
        if m:
            with Image.open(io.BytesIO(data)) as img:
                thumb = img.convert("RGB")
                side = min(thumb.size)
                box = ((thumb.width - side) // 2, (thumb.height - side) // 2)
                thumb = thumb.crop((*box, box[0] + side, box[1] + side)).resize((int(m[1]), int(m[2])))
                data = jpeg_bytes(thumb, 85)
        self._send(200, data, jpeg, {"Cache-Control": "public, max-age=86400"})

    # -- instagram -----------------------------------------------------------------------------------------
    def _ig_token_ok(self) -> bool:
        bearer = self.headers.get("Authorization", "").partition(" ")[2].strip()
        if self.query.get("access_token", "").strip() or bearer:
            return True
        self._json(400, IG_AUTH_ERROR)
        return False

    def _ig_param_error(self, name: str) -> None:
        message = f"(#100) The parameter {name} is required"
        self._json(400, {"error": {"message": message, "type": "OAuthException", "code": 100}})

    def ig_search(self) -> None:
        if not self._ig_token_ok():
            return None
        if not self.query.get("user_id"):
            return self._ig_param_error("user_id")
        tag = self.query.get("q", "").strip().lstrip("#").lower()
        if not tag:
            return self._ig_param_error("q")
        tag_id = _tag_id(tag)
        with self.app.lock:
            self.app.tags[tag_id] = tag
        self._json(200, {"data": [{"id": tag_id}]})

    def ig_recent(self, tag_id: str) -> None:
        if not self._ig_token_ok():
            return None
        if not self.query.get("user_id"):
            return self._ig_param_error("user_id")
        tag = self.app.tags.get(tag_id)
        if tag is None:
            return self._json(
                400,
                {
                    "error": {
                        "message": f"Unsupported get request. Object with ID '{tag_id}' does not exist",
                        "type": "GraphMethodException",
                        "code": 100,
                    }
                },
            )
        try:
            offset = _offset(self.query.get("after"))
            limit = min(max(int(self.query.get("limit") or 25), 1), 100)
        except ValueError:
            return self._ig_param_error("after")
        if offset > 0 and self.app.faults:
            with self.app.lock:
                first, self.app.rate_limited_once = not self.app.rate_limited_once, True
            if first:
                return self._json(
                    429,
                    {
                        "error": {
                            "message": "Application request limit reached",
                            "type": "OAuthException",
                            "code": 4,
                            "is_transient": True,
                        }
                    },
                    {"Retry-After": "1"},
                )
        posts = self.app.feed(tag)
        if not posts:
            return self._json(200, {"data": []})
        fields = [f.strip() for f in self.query.get("fields", "").split(",") if f.strip()] or None
        page = posts[offset : offset + limit]
        stamp = f"{self.app.world.date}T12:00:00"
        hole = posts.index(None) if None in posts else 0
        if hole > 0 and posts[hole - 1] is not None:
            stamp = posts[hole - 1].timestamp
        out: dict = {
            "data": [_ig_media(p, self.base, fields, stamp) for p in page],
            "paging": {"cursors": {"before": _cursor(offset), "after": _cursor(offset + len(page))}},
        }
        if offset + limit < len(posts):
            params = {**self.query, "after": _cursor(offset + len(page)), "limit": str(limit)}
            out["paging"]["next"] = f"{self.base}{IG_BASE}/{tag_id}/recent_media?{urlencode(params)}"
        self._json(200, out)

    # -- pinterest -----------------------------------------------------------------------------------------
    def pin_search(self) -> None:
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return self._json(401, {"code": 2, "message": "Authentication failed."})
        if not self.query.get("query", "").strip():
            return self._json(400, {"code": 1, "message": "Invalid parameters: query is required."})
        try:
            offset = _offset(self.query.get("bookmark"))
            size = min(max(int(self.query.get("page_size") or 25), 1), 250)
        except ValueError:
            return self._json(400, {"code": 1, "message": "Invalid parameters: bookmark or page_size."})
        pins = self.app.world.posts_of("pinterest")
        page = pins[offset : offset + size]
        more = offset + size < len(pins)
        self._json(
            200,
            {
                "items": [_pin(p, self.base) for p in page],
                "bookmark": _cursor(offset + len(page)) if more else None,
            },
        )


def _ig_media(post: Post | None, base: str, fields: list[str] | None, fault_time: str) -> dict:
    if post is None:  # fault: an album without media_url
        item = {
            "id": FAULT_POST_ID,
            "media_type": "CAROUSEL_ALBUM",
            "permalink": "https://www.instagram.com/p/CfAuLtAlBuM/",
            "caption": "Swipe for more #streetstyle",
            "like_count": 12,
            "comments_count": 1,
            "timestamp": fault_time[:19] + "+0000",
        }
    else:
        code = base64.urlsafe_b64encode(int(post.post_id).to_bytes(8, "big")).decode().rstrip("=")
        item = {
            "id": post.post_id,
            "media_type": "IMAGE",
            "media_url": f"{base}/img/{post.image_id}.jpg",
            "permalink": f"https://www.instagram.com/p/{code}/",
            "caption": post.caption,
            "like_count": post.like_count,
            "comments_count": post.comments_count,
            "timestamp": post.timestamp[:19] + "+0000",
        }
    if fields is None:
        return item
    return {k: v for k, v in item.items() if k == "id" or k in fields}


def _pin(post: Post, base: str) -> dict:
    url = f"{base}/img/{post.image_id}.jpg"
    w, h = POST_SIZE
    return {
        "id": post.post_id,
        "created_at": post.timestamp[:19],
        "link": f"https://www.pinterest.com/pin/{post.post_id}/",
        "title": post.title,
        "description": post.caption,
        "dominant_color": post.colour_hex,
        "save_count": post.like_count,
        "board_id": "1100000000000001",
        "alt_text": None,
        "media": {
            "media_type": "image",
            "images": {
                "150x150": {"url": f"{url}?size=150x150", "width": 150, "height": 150},
                "600x": {"url": url, "width": w, "height": h},
                "1200x": {"url": url, "width": w, "height": h},
            },
        },
    }


def _product_html(prod: Product, base: str, with_meta: bool = True) -> str:
    page = f"{base}/shop/{prod.portal}/p/{prod.sku}.html"
    img = f"{base}/img/{prod.image_id}.jpg"
    shop = {"boutique": "Boutique", "outlet": "Outlet"}.get(prod.portal, prod.portal.title())
    e = html.escape
    head = ""
    if with_meta:
        ld = {
            "@context": "https://schema.org",
            "@type": "Product",
            "name": prod.title,
            "sku": prod.sku,
            "brand": {"@type": "Brand", "name": prod.brand},
            "category": prod.category,
            "image": [img],
            "description": prod.description,
            "offers": {
                "@type": "Offer",
                "price": f"{prod.price:.2f}",
                "priceCurrency": prod.currency,
                "availability": "https://schema.org/InStock",
                "url": page,
            },
        }
        ld_text = json.dumps(ld).replace("</", "<\\/")
        head = (
            f'<meta property="og:type" content="product">\n'
            f'<meta property="og:title" content="{e(prod.title)}">\n'
            f'<meta property="og:image" content="{e(img)}">\n'
            f'<meta property="og:url" content="{e(page)}">\n'
            f'<script type="application/ld+json">{ld_text}</script>\n'
        )
    figure = f'<img src="{e(img)}" alt="{e(prod.title)}" width="256" height="320">' if with_meta else ""
    return f"""<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8">
<title>{e(prod.title)} | {e(prod.brand)} | {shop}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="canonical" href="{e(page)}">
{head}</head><body>
<header><a href="/shop/{prod.portal}/">{shop}</a><nav><a href="#">New in</a> <a href="#">Women</a>
<a href="#">Men</a> <a href="#">Sale</a></nav></header>
<ol class="breadcrumbs"><li><a href="/shop/{prod.portal}/">Home</a></li>
<li><a href="/shop/{prod.portal}/c/{e(prod.category)}">{e(prod.category.title())}</a></li>
<li>{e(prod.title)}</li></ol>
<main class="product"><figure>{figure}</figure>
<section><h1>{e(prod.title)}</h1><p class="brand">{e(prod.brand)}</p>
<p class="price">&pound;{prod.price:.2f}</p><p>{e(prod.description)}</p>
<button type="button">Add to bag</button></section></main>
<footer><p>&copy; 2026 {shop} (demo)</p></footer>
</body></html>
"""


_ROUTES = [
    (re.compile(r"^/robots\.txt$"), "robots"),
    (re.compile(r"^/health$"), "health"),
    (re.compile(r"^/truth\.json$"), "truth"),
    (re.compile(r"^/shop/(?P<portal>[a-z]+)/sitemap\.xml$"), "sitemap"),
    (re.compile(r"^/shop/(?P<portal>[a-z]+)/p/(?P<sku>[A-Za-z0-9_-]+)\.html$"), "product_page"),
    (re.compile(r"^/img/(?P<image_id>[A-Za-z0-9_-]+)\.jpg$"), "image"),
    (re.compile(rf"^{IG_BASE}/ig_hashtag_search$"), "ig_search"),
    (re.compile(rf"^{IG_BASE}/(?P<tag_id>\d+)/recent_media$"), "ig_recent"),
    (re.compile(rf"^{PIN_BASE}/search/pins$"), "pin_search"),
]


class DemoWeb:
    """The demo web serving one :class:`World` from a daemon thread.

    Example:
        >>> with DemoWeb(build_world(n_products=60, n_posts=40)) as web:  # doctest: +SKIP
        ...     urllib.request.urlopen(web.url + "/health").read()
    """

    def __init__(self, world: World, host: str = "127.0.0.1", port: int = 0, faults: bool = False) -> None:
        self.world, self.host, self.port, self.faults = world, host, port, faults
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> DemoWeb:
        """Bind and serve in a daemon thread; returns self."""
        if self._server is not None:
            return self
        handler = type("DemoWebHandler", (_Handler,), {"app": _App(self.world, self.faults)})
        self._server = ThreadingHTTPServer((self.host, self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name=f"demo-web-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:8765`` (the real port once started)."""
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server, self._thread = None, None

    def __enter__(self) -> DemoWeb:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_demo_web(
    host: str = "127.0.0.1",
    port: int = 8765,
    seed: int = 7,
    n_products: int = 1000,
    n_posts: int = 300,
    day: int = 0,
    images_dir: str | None = None,
    faults: bool = False,
) -> None:
    """Build a world and serve it until SIGINT or SIGTERM (the ``fti demo-web`` command).

    Args:
        host: Interface to bind (keep 127.0.0.1 unless containers must reach it).
        port: TCP port (0 picks a free one).
        seed: World seed.
        n_products: Catalog size over both shops.
        n_posts: Social posts over both networks.
        day: Days after 2026-11-01.
        images_dir: Optional real product photo folder (Kaggle "fashion product images" layout).
        faults: Also serve the broken pages, images and responses used by tests.
    """
    world = build_world(seed=seed, n_products=n_products, n_posts=n_posts, day=day, images_dir=images_dir)
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    web = DemoWeb(world, host=host, port=port, faults=faults).start()
    try:
        sizes = f"{len(world.products)} products, {len(world.posts)} posts"
        extra = ", faults" if faults else ""
        print(f"demo web on {web.url} (seed={seed}, {sizes}, day={day}{extra}); Ctrl-C to stop", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        web.stop()
        for s, h in previous.items():
            signal.signal(s, h)
