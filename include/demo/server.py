"""The demo web: a threaded stdlib HTTP server on 127.0.0.1 that plays two shops and two social APIs.

Routes (absolute URLs are built from the request's ``Host`` header):

- ``/robots.txt``, ``/health``, ``/truth.json``
- ``/shop/<portal>/sitemap.xml`` and ``/shop/<portal>/p/<sku>.html`` (schema.org Product JSON-LD, og:image)
- ``/img/<image_id>.jpg`` (``p-<sku>`` product shots, ``s-<post_id>`` social photos; ``?size=150x150`` thumbs)
- ``/social/instagram/v21.0/ig_hashtag_search`` and ``/social/instagram/v21.0/<hashtag_id>/recent_media``
  (Instagram Graph API shapes, cursor paging)
- ``/social/pinterest/v5/search/partner/pins`` and ``/social/pinterest/v5/boards/<board_id>/pins`` (Pinterest API
  v5 shapes, bookmark paging, Bearer auth)

With ``faults=True`` it also serves broken things crawlers must survive (see ``FAULT_SKUS``: a bot wall's challenge
page among them), an album without images and, once, usage headers near the limit on a second page of an
Instagram feed (the crawler slows down).

The shop routes live in :mod:`include.demo.shop` and the social API routes in
:mod:`include.demo.social_api`; this module holds the shared state, the dispatching request handler and
the server lifecycle.
"""

from __future__ import annotations

import json
import logging
import re
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from include.demo.app import FAULT_SKUS, App
from include.demo.shop import ShopRoutes
from include.demo.social_api import DEMO_BOARD_ID, FAULT_POST_ID, IG_AUTH_ERROR, IG_BASE, PIN_BASE, SocialApiRoutes
from include.demo.world import World, build_world

__all__ = ["DEMO_BOARD_ID", "FAULT_POST_ID", "FAULT_SKUS", "IG_AUTH_ERROR", "IG_BASE", "PIN_BASE", "DemoWeb",
           "run_demo_web"]  # fmt: skip

log = logging.getLogger(__name__)
_HOST_OK = re.compile(r"^[A-Za-z0-9.\-\[\]:]+$")


class _Handler(ShopRoutes, SocialApiRoutes, BaseHTTPRequestHandler):
    app: App
    web: DemoWeb | None = None
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
        if self.web is not None:
            self.web.count_request()
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


_ROUTES = [
    (re.compile(r"^/robots\.txt$"), "robots"),
    (re.compile(r"^/health$"), "health"),
    (re.compile(r"^/truth\.json$"), "truth"),
    (re.compile(r"^/shop/(?P<portal>[a-z]+)/sitemap\.xml$"), "sitemap"),
    (re.compile(r"^/shop/(?P<portal>[a-z]+)/p/(?P<sku>[A-Za-z0-9_-]+)\.html$"), "product_page"),
    (re.compile(r"^/img/(?P<image_id>[A-Za-z0-9_-]+)\.jpg$"), "image"),
    (re.compile(rf"^{IG_BASE}/ig_hashtag_search$"), "ig_search"),
    (re.compile(rf"^{IG_BASE}/(?P<tag_id>\d+)/recent_media$"), "ig_recent"),
    (re.compile(rf"^{PIN_BASE}/search/partner/pins$"), "pin_search"),
    (re.compile(rf"^{PIN_BASE}/boards/(?P<board_id>\d+)/pins$"), "board_pins"),
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
        self.requests = 0  # every request served (tests: a backfill that must not fetch)
        self._count_lock = threading.Lock()

    def count_request(self) -> None:
        """Count one request (called by the handler threads)."""
        with self._count_lock:
            self.requests += 1

    def set_world(self, world: World) -> None:
        """Serve another world from now on (the next simulated day), on the same address."""
        self.world = world
        if self._server is not None:
            self._server.RequestHandlerClass.app = App(world, self.faults)

    def start(self) -> DemoWeb:
        """Bind and serve in a daemon thread; returns self."""
        if self._server is not None:
            return self
        handler = type("DemoWebHandler", (_Handler,), {"app": App(self.world, self.faults), "web": self})
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
