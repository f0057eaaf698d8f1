"""Outbound request guard: only http(s), and no private, loopback, link-local or metadata addresses.

A URL taken from untrusted pages or API payloads (an ``og:image``, a redirect ``Location``) must not make the
crawler fetch from inside the network it runs in. The guard runs as a downloader middleware, so redirects pass
through it again. A source may allow its *own* hosts to be private (the demo web on 127.0.0.1 does); any other
private host, a redirect to 127.0.0.2 included, is refused and counted as ``blocked-address``.

With ``FTI_LOOPBACK_ONLY`` (``FTI_LOOPBACK_ONLY=1`` in tests and CI) every host that is not a loopback address is
refused as well (``blocked-offline``): a test can then never reach a real site, whatever the registry says.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from functools import lru_cache

from scrapy.exceptions import IgnoreRequest
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.httpobj import urlparse_cached

from crawlers.skips import count_skip

ALLOWED_SCHEMES = {"http", "https"}
Resolver = Callable[[str], list[str]]


class BlockedRequest(IgnoreRequest):
    """A request the guard refused; its message starts with the counted reason (``blocked-address: …``)."""


def is_private_address(address: str) -> bool:
    """True for any address that is not globally routable (RFC 1918, loopback, link-local, metadata, ULA…)."""
    ip = ipaddress.ip_address(address.strip("[]").split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global


def system_resolver(host: str) -> list[str]:
    """Every address ``host`` resolves to (empty when it does not resolve)."""
    try:
        return sorted({info[4][0] for info in socket.getaddrinfo(host, None)})
    except socket.gaierror:
        return []


def host_is_loopback(host: str, resolver: Resolver = system_resolver) -> bool:
    """True when ``host`` is, or resolves only to, loopback addresses (127.0.0.0/8, ::1)."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    addresses = resolver(host)
    return bool(addresses) and all(ipaddress.ip_address(a.split("%", 1)[0]).is_loopback for a in addresses)


def host_is_private(host: str, resolver: Resolver = system_resolver) -> bool:
    """True when ``host`` is, or resolves to at least one, private address."""
    try:
        return is_private_address(host)
    except ValueError:
        pass  # a DNS name
    return any(is_private_address(addr) for addr in resolver(host))


class AddressGuardMiddleware:
    """Downloader middleware refusing non-http(s) URLs and private hosts other than ``FTI_ALLOWED_HOSTS``."""

    def __init__(self, crawler, resolver: Resolver = system_resolver) -> None:
        self.crawler = crawler
        self.allowed = {h.lower() for h in crawler.settings.getlist("FTI_ALLOWED_HOSTS")}
        self._private = lru_cache(maxsize=4096)(lambda host: host_is_private(host, resolver))
        self.loopback_only = crawler.settings.getbool("FTI_LOOPBACK_ONLY")
        self._loopback = lru_cache(maxsize=4096)(lambda host: host_is_loopback(host, resolver))

    @classmethod
    def from_crawler(cls, crawler) -> AddressGuardMiddleware:  # noqa: D102 (Scrapy hook)
        return cls(crawler)

    def _refuse(self, request, reason: str, detail: str):
        if request.callback is not NO_CALLBACK:  # media downloads are counted by the images pipeline
            count_skip(self.crawler, reason, request.url, detail)
        raise BlockedRequest(f"{reason}: {detail}")

    def process_request(self, request):  # noqa: D102 (Scrapy hook)
        parsed = urlparse_cached(request)
        if parsed.scheme not in ALLOWED_SCHEMES:
            self._refuse(request, "blocked-scheme", request.url)
        host = (parsed.hostname or "").lower()
        if self.loopback_only and not self._loopback(host):
            self._refuse(request, "blocked-offline", f"{host} is not loopback and FTI_LOOPBACK_ONLY is set")
        if host not in self.allowed and self._private(host):
            self._refuse(request, "blocked-address", f"{host} is not a public address ({request.url})")
        return None
