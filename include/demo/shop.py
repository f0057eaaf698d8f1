"""The shops of the demo web: sitemaps, product pages (schema.org JSON-LD, Open Graph) and images.

The boutique's pages carry a ``Product`` with one ``Offer`` and an absolute ``og:image``; the outlet's, like many
real shops, a ``ProductGroup`` whose ``hasVariant`` sizes each have an offer and a relative image URL, and no
``og:image``. :class:`ShopRoutes` holds the route handlers and is mixed into the request handler of
:mod:`include.demo.server`. With faults on, the boutique also lists the misbehaving products of ``FAULT_SKUS``
(one is answered by a bot wall: HTTP 403, ``cf-mitigated: challenge``) and ``/img/p-fault-*.jpg`` serves broken
images (truncated, HTML, a decompression bomb, tiny).
"""

from __future__ import annotations

import html
import io
import json
import re
import struct
import zlib
from typing import TYPE_CHECKING

from PIL import Image

from include.demo.world import PORTALS, Product
from include.synth.apparel import jpeg_bytes, render_product

if TYPE_CHECKING:
    from include.demo.app import App


def _bomb_png() -> bytes:
    """A tiny PNG whose header claims 30000 x 30000 pixels (a decompression bomb for naive decoders)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)  # 8-bit RGB
    idat = zlib.compress(b"\0" * 4096)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


CHALLENGE_PAGE = (
    b"<!DOCTYPE html><html lang='en-US'><head><title>Just a moment...</title></head><body>"
    b"<noscript>Enable JavaScript and cookies to continue</noscript><script>"
    b"window._cf_chl_opt={cType:'managed'};</script>"
    b"<script src='/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1'></script></body></html>"
)


class ShopRoutes:
    """Route handlers of the two shops and the image route, mixed into the demo web's request handler.

    The handler provides ``app`` (shared state), ``query`` (the parsed query string), ``base`` (the absolute
    base URL of the request) and the ``_send`` / ``_json`` responders.
    """

    app: App
    query: dict[str, str]

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
        if prod is not None and sku == "fault-challenge":
            return self._send(403, CHALLENGE_PAGE, "text/html; charset=UTF-8", {"cf-mitigated": "challenge"})
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


def _product_group(ld: dict, prod: Product, offer: dict, page: str) -> dict:
    """The outlet's JSON-LD: a ``ProductGroup`` of sizes, each with its offer and the image as a relative URL."""
    variants = [
        {"@type": "Product", "sku": f"{prod.sku}-{size}", "size": size, "image": f"/img/{prod.image_id}.jpg",
         "offers": {**offer, "url": f"{page}?size={size}"}}
        for size in ("S", "M", "L")
    ]  # fmt: skip
    group = {k: v for k, v in ld.items() if k not in ("sku", "image", "offers")}
    return {**group, "@type": "ProductGroup", "productGroupID": prod.sku, "variesBy": ["https://schema.org/size"],
            "hasVariant": variants}  # fmt: skip


def _product_html(prod: Product, base: str, with_meta: bool = True) -> str:
    page = f"{base}/shop/{prod.portal}/p/{prod.sku}.html"
    img = f"{base}/img/{prod.image_id}.jpg"
    shop = {"boutique": "Boutique", "outlet": "Outlet"}.get(prod.portal, prod.portal.title())
    e = html.escape
    head = ""
    if with_meta:
        offer = {"@type": "Offer", "price": f"{prod.price:.2f}", "priceCurrency": prod.currency,
                 "availability": "https://schema.org/InStock", "url": page}  # fmt: skip
        ld = {
            "@context": "https://schema.org",
            "@type": "Product",
            "name": prod.title,
            "sku": prod.sku,
            "brand": {"@type": "Brand", "name": prod.brand},
            "category": prod.category,
            "image": [img],
            "description": prod.description,
            "offers": offer,
        }
        if prod.portal == "outlet":
            ld = _product_group(ld, prod, offer, page)
        ld_text = json.dumps(ld).replace("</", "<\\/")
        og_image = f'<meta property="og:image" content="{e(img)}">\n' if prod.portal != "outlet" else ""
        head = (
            f'<meta property="og:type" content="product">\n'
            f'<meta property="og:title" content="{e(prod.title)}">\n'
            f"{og_image}"
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
