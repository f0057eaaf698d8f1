"""A real HTTP server on 127.0.0.1 answering from a route table, recording every request it gets.

It speaks HTTP/1.0 (one request per connection): with keep-alive, Scrapy's Twisted client stalled on pooled
connections of the stdlib's thread-per-connection server (see include/demo/server.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass
class Reply:
    """One canned response; ``body`` may contain ``{base}`` (the site's own URL), expanded when served."""

    body: bytes | str = b""
    status: int = 200
    ctype: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


Route = Reply | Callable[["LoopbackSite", int, str], Reply]  # called with the site, the route's hit count, the path


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # a burst of connections must not overflow the listen backlog
    daemon_threads = True


def fixture(name: str) -> str:
    """The text of a saved response under tests/crawlers/fixtures/."""
    return (FIXTURES / name).read_text(encoding="utf-8")


class LoopbackSite:
    """Serve ``routes`` (path with query, or bare path) on 127.0.0.1; ``requests`` lists (time, path) received,
    ``headers`` the (path, request headers) of each."""

    def __init__(self, routes: dict[str, Route] | None = None) -> None:
        self.routes: dict[str, Route] = dict(routes or {})
        self.requests: list[tuple[float, str]] = []
        self.hits: dict[str, int] = {}
        self.headers: list[tuple[str, dict[str, str]]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args):
                pass

            def do_GET(self):
                site.requests.append((time.monotonic(), self.path))
                site.headers.append((self.path, dict(self.headers.items())))
                reply = site.reply(self.path)
                body = reply.body.replace("{base}", site.url) if isinstance(reply.body, str) else reply.body
                data = body.encode() if isinstance(body, str) else body
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.ctype)
                self.send_header("Content-Length", str(len(data)))
                for key, value in reply.headers.items():
                    self.send_header(key, value.replace("{base}", site.url))
                self.end_headers()
                self.wfile.write(data)

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def reply(self, path: str) -> Reply:
        """The reply for ``path`` (exact match with query first, then without query; else 404)."""
        key = path if path in self.routes else path.split("?", 1)[0]
        route = self.routes.get(key)
        if route is None:
            return Reply(b"not found", 404, "text/plain")
        self.hits[key] = self.hits.get(key, 0) + 1
        return route(self, self.hits[key], path) if callable(route) else route

    def paths(self) -> list[str]:
        """Every path requested so far, in order."""
        return [p for _, p in self.requests]

    def __enter__(self) -> LoopbackSite:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
