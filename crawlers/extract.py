"""A product page's fields from its embedded metadata: ``extruct`` reads it, ``price-parser`` reads its prices.

Sources, best first, each field filled from the first that has it: schema.org JSON-LD, microdata, RDFa (only read
when the others found no product: it is the slow one), then Open Graph (``og:*``, ``product:*``). A schema.org
``Product`` is read as is; a ``ProductGroup`` through its ``hasVariant`` products (offers, images, ids);
``Offer``, ``AggregateOffer`` (``lowPrice``) and ``priceSpecification`` give the price, the cheapest offer in
stock first. Image URLs may be relative, protocol-relative (``//cdn…``) or URL-encoded as a whole
(``https://cdn/app%3Fset%3D…``); they come back absolute. When no metadata names an image, the largest product
image of the page's gallery is the last fallback (:mod:`crawlers.gallery`).

:func:`extract_product` raises :class:`NoProduct` when the page declares no product at all (no schema.org product in
any syntax, no Open Graph product): the page is then a counted skip (``no-product``, or ``bad-jsonld`` when a
malformed JSON-LD script may have held it), never a row without a product behind it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

import extruct
from extruct.jsonld import JsonLdExtractor
from extruct.utils import parse_html
from price_parser import Price

from crawlers.gallery import gallery_image
from crawlers.urls import absolute_url

FIELDS = ("title", "brand", "price", "currency", "image", "page_url", "availability", "product_id")
PRODUCT_TYPES = {"Product", "ProductGroup", "IndividualProduct", "ProductModel", "SomeProducts", "Vehicle"}
IN_STOCK = {"InStock", "LimitedAvailability", "OnlineOnly", "InStoreOnly", "PreOrder", "PreSale", "BackOrder"}
CURRENCY_SYMBOLS = {"€": "EUR", "£": "GBP", "$": "USD", "US$": "USD", "¥": "JPY", "₹": "INR", "kr": "SEK",
                    "zł": "PLN", "CHF": "CHF", "₩": "KRW", "R$": "BRL", "A$": "AUD", "C$": "CAD"}  # fmt: skip


class NoProduct(ValueError):
    """The page declares no product; ``reason`` is the skip reason (``no-product`` or ``bad-jsonld``)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


_PLAIN_NUMBER = re.compile(r"^\s*\d+(\.\d+)?\s*$")
_SCHEMA = re.compile(r"^https?://schema\.org/")


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return next((v for v in value if v not in (None, "", {}, [])), None)
    return value


def _text(value: Any) -> str | None:
    """A clean string: the first of a list, ``name`` of an object, HTML entities decoded, whitespace trimmed."""
    value = _first(value)
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value")
    if value is None or isinstance(value, (dict, list)):
        return None
    text = re.sub(r"\s+", " ", html.unescape(str(value))).strip()
    return text or None


def _types(node: dict[str, Any]) -> set[str]:
    kinds = node.get("@type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return {_SCHEMA.sub("", k).rsplit("/", 1)[-1] for k in kinds if isinstance(k, str)}


def products(data: Any) -> Iterator[dict[str, Any]]:
    """The product objects of a JSON-LD or microdata document, outermost first (``@graph`` and lists walked; the
    products nested in a product, such as an offer's ``itemOffered`` or a group's variants, belong to it)."""
    stack = [data]
    while stack:
        node = stack.pop(0)
        if isinstance(node, dict):
            if _types(node) & PRODUCT_TYPES:
                yield node
            else:
                stack.extend(v for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend(node)


def parse_price(value: Any, currency_hint: str | None = None) -> tuple[float | None, str | None]:
    """Amount and ISO currency of a price value (``49.90``, ``"1.299,00 €"``, ``"£59"``) via price-parser."""
    value = _first(value)
    if value is None or isinstance(value, (dict, list, bool)):
        return None, None
    if isinstance(value, (int, float)):
        return float(value), None
    text = str(value)
    if _PLAIN_NUMBER.match(text):  # schema.org prices use a dot as decimal separator: 1.299 is one and a bit
        return float(text), None
    price = Price.fromstring(text, currency_hint=currency_hint)
    currency = (price.currency or "").strip() or None
    if currency:
        currency = CURRENCY_SYMBOLS.get(currency, currency.upper() if re.fullmatch(r"[A-Za-z]{3}", currency) else None)
    return price.amount_float, currency


OPEN_GRAPH_AVAILABILITY = {"instock": "InStock", "in stock": "InStock", "oos": "OutOfStock",
                           "out of stock": "OutOfStock", "outofstock": "OutOfStock", "preorder": "PreOrder",
                           "pre-order": "PreOrder", "pending": "PreOrder", "discontinued": "Discontinued"}  # fmt: skip


def availability(value: Any) -> str | None:
    """Availability as a schema.org name: ``https://schema.org/InStock`` and Open Graph ``instock`` -> ``InStock``."""
    text = _text(value)
    if not text:
        return None
    return OPEN_GRAPH_AVAILABILITY.get(text.lower(), text.rstrip("/").rsplit("/", 1)[-1])


def _offers(node: dict[str, Any]) -> list[dict[str, Any]]:
    """The offers of a product or product group, ``AggregateOffer`` and its nested offers included."""
    found: list[dict[str, Any]] = []
    nodes = [node] + [v for v in node.get("hasVariant") or [] if isinstance(v, dict)]
    for owner in nodes:
        offers = owner.get("offers")
        for offer in offers if isinstance(offers, list) else [offers]:
            if isinstance(offer, dict):
                found.append(offer)
                nested = offer.get("offers")
                found += [o for o in (nested if isinstance(nested, list) else [nested]) if isinstance(o, dict)]
    return found


def _offer_price(offer: dict[str, Any]) -> tuple[float | None, str | None]:
    spec = _first(offer.get("priceSpecification"))
    spec = spec if isinstance(spec, dict) else {}
    currency = _text(offer.get("priceCurrency")) or _text(spec.get("priceCurrency"))
    for value in (offer.get("price"), spec.get("price"), offer.get("lowPrice"), offer.get("highPrice")):
        amount, parsed_currency = parse_price(value, currency)
        if amount is not None:
            return amount, currency or parsed_currency
    return None, currency


def schema_fields(node: dict[str, Any], base: str | None) -> dict[str, Any]:
    """The fields of one schema.org ``Product`` or ``ProductGroup`` object (None where it says nothing)."""
    variants = [v for v in node.get("hasVariant") or [] if isinstance(v, dict)]
    priced = []
    for offer in _offers(node):
        amount, currency = _offer_price(offer)
        if amount is not None:
            priced.append((availability(offer.get("availability")) not in IN_STOCK, amount, currency, offer))
    best = min(priced, key=lambda p: (p[0], p[1])) if priced else None
    states = [availability(o.get("availability")) for o in _offers(node)]
    state = availability(best[3].get("availability")) if best else None
    state = state or next((s for s in states if s), None)
    image = absolute_url(node.get("image"), base)
    for variant in variants:
        image = image or absolute_url(variant.get("image"), base)
    ids = [node.get(k) for k in ("sku", "productID", "mpn", "gtin13", "gtin", "productGroupID")]
    ids += [v.get("sku") for v in variants[:1]]
    brand = node.get("brand") or node.get("manufacturer") or next((v.get("brand") for v in variants), None)
    url = _text(node.get("url"))
    offer_url = _text(best[3].get("url")) if best else None
    return {
        "title": _text(node.get("name")) or next((_text(v.get("name")) for v in variants), None),
        "brand": _text(brand),
        "price": best[1] if best else None,
        "currency": best[2] if best else None,
        "image": image,
        "page_url": absolute_url(url, base) if url else None,
        "availability": state,
        "product_id": next((_text(i) for i in ids if _text(i)), None),
        "offer_url": absolute_url(offer_url, base) if offer_url else None,  # after the page's own URL
    }


def rdfa_nodes(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """extruct's expanded RDFa (``https://schema.org/name: [{"@value"}]``) as compact schema.org objects."""
    by_id = {i.get("@id"): i for i in items if isinstance(i, dict)}

    def compact(node: dict[str, Any], depth: int = 0) -> dict[str, Any]:
        out: dict[str, Any] = {"@type": sorted(_types(node))}
        for key, values in node.items():
            if not _SCHEMA.match(key):
                continue
            vals = []
            for v in values if isinstance(values, list) else [values]:
                ref = by_id.get(v.get("@id")) if isinstance(v, dict) else None
                if ref is not None and ref.get("@type") and depth < 3:
                    vals.append(compact(ref, depth + 1))
                elif isinstance(v, dict):
                    vals.append(v.get("@value", v.get("@id")))
            out[_SCHEMA.sub("", key)] = vals if len(vals) > 1 else (vals[0] if vals else None)
        return out

    return [compact(i) for i in items if isinstance(i, dict) and _types(i) & PRODUCT_TYPES]


def open_graph(og: dict[str, Any], base: str | None) -> dict[str, Any]:
    """The fields of the page's Open Graph tags (``og:*``, ``product:*``)."""
    amount, parsed = parse_price(og.get("product:price:amount") or og.get("og:price:amount"))
    image = og.get("og:image") or og.get("og:image:url") or og.get("og:image:secure_url")
    url = _text(og.get("og:url"))
    return {
        "title": _text(og.get("og:title")),
        "brand": _text(og.get("product:brand") or og.get("og:brand")),
        "price": amount,
        "currency": _text(og.get("product:price:currency") or og.get("og:price:currency")) or parsed,
        "image": absolute_url(image, base),
        "page_url": absolute_url(url, base) if url else None,
        "availability": availability(og.get("product:availability") or og.get("og:availability")),
        "product_id": _text(og.get("product:retailer_item_id")),
    }


def is_og_product(og: dict[str, Any]) -> bool:
    """An Open Graph product: ``og:type`` names a product, or product price tags are present."""
    kind = str(og.get("@type") or "").lower()
    return bool(og.get("og:title")) and ("product" in kind or bool(og.get("product:price:amount")))


def _jsonld(tree) -> tuple[list[dict[str, Any]], int]:
    """Every JSON-LD object of the page, script by script (a malformed script is counted, the others still read)."""
    items, bad = [], 0
    extractor = JsonLdExtractor()
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            items += list(extractor.extract_items(script))
        except (ValueError, TypeError):
            bad += 1
    return items, bad


def _base_url(tree, url: str | None) -> str | None:
    declared = tree.xpath("//base/@href | //link[@rel='canonical']/@href | //meta[@property='og:url']/@content")
    absolute = next((d.strip() for d in declared if d.strip().startswith(("http://", "https://"))), None)
    return urljoin(url, tree.xpath("string(//base/@href)") or "") if url else absolute


def extract_product(body: bytes | str, url: str | None = None, encoding: str = "utf-8") -> dict[str, Any]:
    """The product a page declares (see the module docstring).

    Args:
        body: The page as served.
        url: Its URL (resolves relative URLs; without it the page's own ``<base>``, canonical or ``og:url``).
        encoding: Fallback encoding of ``body`` when bytes.

    Returns:
        ``FIELDS`` (None where unknown) plus ``found_in`` (field -> ``json-ld`` / ``microdata`` / ``rdfa`` /
        ``opengraph`` / ``gallery`` / ``page``) and ``bad_jsonld`` (malformed JSON-LD scripts on the page).

    Raises:
        NoProduct: no product in any syntax (or one without a name).
    """
    tree = parse_html(body.encode(encoding) if isinstance(body, str) else body, encoding=encoding)
    base = _base_url(tree, url)
    jsonld, bad = _jsonld(tree)
    meta = extruct.extract(tree, base_url=base, syntaxes=["microdata", "opengraph"], uniform=True, errors="ignore")
    sources: list[tuple[str, dict[str, Any]]] = []
    for syntax, items in (("json-ld", jsonld), ("microdata", meta.get("microdata") or [])):
        sources += [(syntax, schema_fields(n, base)) for n in products(items)]
    if not sources:
        rdfa = extruct.extract(body, base_url=base, syntaxes=["rdfa"], errors="ignore").get("rdfa") or []
        sources += [("rdfa", schema_fields(n, base)) for n in rdfa_nodes(rdfa)]
    og = next(iter(meta.get("opengraph") or []), {})
    if not sources and not is_og_product(og):
        if bad:
            raise NoProduct("bad-jsonld", f"{bad} malformed JSON-LD script(s) and no other product metadata")
        raise NoProduct("no-product", "no schema.org Product in JSON-LD, microdata or RDFa, no Open Graph product")
    sources.append(("opengraph", open_graph(og, base)))
    canonical = absolute_url(tree.xpath("string(//link[@rel='canonical']/@href)"), base)
    sources.append(("page", {"page_url": canonical or url}))
    sources += [(name, {"page_url": fields.get("offer_url")}) for name, fields in sources if fields.get("offer_url")]
    out: dict[str, Any] = dict.fromkeys(FIELDS)
    found: dict[str, str] = {}
    for name, fields in sources:
        for key in FIELDS:
            if out[key] is None and fields.get(key) is not None:
                out[key], found[key] = fields[key], name
    if out["title"] is None:
        raise NoProduct("no-product", "a product without a name")
    if out["image"] is None:
        hints = [out["product_id"], out["page_url"], url]
        out["image"] = gallery_image(tree, base, [str(h) for h in hints if h])
        if out["image"]:
            found["image"] = "gallery"
    return {**out, "found_in": found, "bad_jsonld": bad}
