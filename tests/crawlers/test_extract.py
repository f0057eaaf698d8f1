"""Product-page extraction (extruct + price-parser): every schema.org shape, URL forms, the gallery fallback,
and the real saved retailer pages (``../shared/data/real-pages``, skipped without them)."""

from __future__ import annotations

import pytest

from crawlers.extract import NoProduct, availability, extract_product, parse_price
from crawlers.urls import absolute_url
from tests.crawlers.loopback import FIXTURES

FIELDS = ("title", "brand", "price", "currency", "image", "page_url", "availability", "product_id")


def extract(name: str, url: str | None) -> dict:
    return extract_product((FIXTURES / name).read_bytes(), url)


@pytest.mark.parametrize("name, url, expected, found", [
    ("product_group.html", "https://shop.example/p/jumper-77?utm=x",
     ("Ribbed merino jumper", "Acme & Co", 79.0, "GBP", "https://shop.example/images/jumper-77-navy.jpg",
      "https://shop.example/p/jumper-77", "InStock", "JUMPER-77"), "json-ld"),  # cheapest variant in stock
    ("product_aggregate_offer.html", "https://shop.example/de/p/4711",
     ("Wollmantel mit Gürtel", "Marke", 129.95, "EUR", "https://cdn.shop.example/m/4711.jpg",
      "https://shop.example/de/p/4711", "InStock", "4711"), "json-ld"),  # lowPrice "129,95", //cdn ImageObject
    ("product_microdata.html", "https://shop.example/p/scarf-9",
     ("Printed silk scarf", "Maison", 45.0, "EUR", "https://shop.example/media/scarf-9.jpg",
      "https://shop.example/p/scarf-9", "LimitedAvailability", "SCARF-9"), "microdata"),  # priceSpecification
    ("product_rdfa.html", "https://shop.example/p/belt-3",
     ("Braided leather belt", None, 35.0, "GBP", "https://img.shop.example/belt-3.jpg",
      "https://shop.example/p/belt-3", "InStock", "BELT-3"), "rdfa"),
])  # fmt: skip
def test_each_schema_org_shape_gives_the_fields(name, url, expected, found):
    fields = extract(name, url)
    assert tuple(fields[k] for k in FIELDS) == expected
    assert fields["found_in"]["title"] == found and fields["bad_jsonld"] == 0


def test_largest_gallery_image_of_the_product_is_the_last_fallback():
    fields = extract("product_gallery_only.html", None)  # og:title and price, no og:image, no JSON-LD
    assert fields["found_in"]["image"] == "gallery" and fields["found_in"]["title"] == "opengraph"
    # the product's own front picture in its zoom rendition: not the logo, the pixel, the swatch, the template,
    # nor the 2000w picture of another product in the "style with" block
    assert fields["image"] == "https://img.shop.example/prod?set=source[02_0812345_002_001],type[PRODUCT]&call=zoom"
    assert (fields["price"], fields["currency"], fields["availability"]) == (59.0, "EUR", "InStock")


def test_a_page_without_product_metadata_raises_with_the_reason():
    with pytest.raises(NoProduct, match="no-product") as info:
        extract_product(b"<html><body><img src='/hero.jpg' class='gallery'></body></html>", "https://x.example/")
    assert info.value.reason == "no-product"
    with pytest.raises(NoProduct) as info:
        extract_product(b'<script type="application/ld+json">{"@type": "Product",</script>', "https://x.example/")
    assert info.value.reason == "bad-jsonld"


@pytest.mark.parametrize("raw, base, url", [
    ("/img/a.jpg", "https://shop.example/p/1", "https://shop.example/img/a.jpg"),
    ("img/a.jpg", "https://shop.example/p/1", "https://shop.example/p/img/a.jpg"),
    ("//cdn.example/a.jpg", "https://shop.example/p/1", "https://cdn.example/a.jpg"),
    ("//cdn.example/a.jpg", None, "https://cdn.example/a.jpg"),
    ("https://lp.example/app%3Fset%3Dsource%5B02_1%5D%26call%3Dmain", None, "https://lp.example/app?set=source[02_1]&call=main"),
    ("https://cdn.example/a%20b.jpg?w=1", None, "https://cdn.example/a%20b.jpg?w=1"),  # only a wholly encoded URL
    ([{"@type": "ImageObject", "contentUrl": "/x.jpg"}], "https://s.example/", "https://s.example/x.jpg"),
    ("data:image/gif;base64,R0lGOD", "https://s.example/", None),
    ("{{this.imageURL}}", "https://s.example/", None),
    ("mailto:someone@example.com", "https://s.example/", None),
])  # fmt: skip
def test_absolute_url_forms(raw, base, url):
    assert absolute_url(raw, base) == url


@pytest.mark.parametrize("raw, hint, amount, currency", [
    ("49.90", None, 49.9, None), (49.9, None, 49.9, None), ("1.299", None, 1.299, None),  # schema.org: a dot
    ("1.299,00 €", None, 1299.0, "EUR"), ("£59", None, 59.0, "GBP"), ("129,95", "EUR", 129.95, "EUR"),
    ("19.99 USD", None, 19.99, "USD"), (None, None, None, None), ("ask us", None, None, None),
])  # fmt: skip
def test_prices_through_price_parser(raw, hint, amount, currency):
    assert parse_price(raw, hint) == (amount, currency)


def test_availability_names():
    assert availability("https://schema.org/InStock") == "InStock" and availability("instock") == "InStock"
    assert availability("oos") == "OutOfStock" and availability(["http://schema.org/PreOrder/"]) == "PreOrder"
    assert availability(None) is None


@pytest.fixture(scope="module")
def real_pages():
    from benchmarks.parse_pages import REAL_PAGES

    if not (REAL_PAGES / "sources.csv").exists():
        pytest.skip(f"real pages not available at {REAL_PAGES}")
    return REAL_PAGES


def test_real_saved_retailer_pages(real_pages):
    """Title, price, currency and the product's own main image from at least 95 % of the real pages."""
    from benchmarks.parse_pages import score_products

    summary = score_products(real_pages)
    pages = summary["pages"]
    assert pages >= 9
    assert summary["all_four"] / pages >= 0.95, summary["misses"]
    assert summary["fields"]["image_is_the_products"] / pages >= 0.95, summary["misses"]
    assert summary["fields"]["title_matches"] == pages
