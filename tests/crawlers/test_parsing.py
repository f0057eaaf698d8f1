"""Each spider type's parsing on saved responses shaped like the real sites and APIs (offline)."""

from __future__ import annotations

import json

import pytest
from scrapy.http import HtmlResponse, Request, TextResponse
from scrapy.utils.test import get_crawler

from crawlers.spiders.instagram_hashtag import InstagramHashtagSpider
from crawlers.spiders.jsonld_product import JsonLdProductSpider, find_product, product_fields
from crawlers.spiders.pinterest_search import PinterestSearchSpider, best_image


def spider(cls, **kwargs):
    return cls.from_crawler(get_crawler(cls), **kwargs)


def skipped(sp):
    return {k.split("/", 2)[2]: v for k, v in sp.crawler.stats.get_stats().items() if k.startswith("fti/skipped/")}


PRODUCT_PAGE = """<html><head>
<meta property="og:image" content="/img/og.jpg">
<script type="application/ld+json">{"@context":"https://schema.org","@type":"BreadcrumbList"}</script>
<script type="application/ld+json">{broken json</script>
<script type="application/ld+json">{"@context":"https://schema.org","@graph":[
 {"@type":"Organization","name":"Shop"},
 {"@type":"Product","name":"Navy striped shirt dress","sku":"SKU-1","brand":{"@type":"Brand","name":"Acme"},
  "image":["https://cdn.example/img/1.jpg"],
  "offers":{"@type":"Offer","price":"49.90","priceCurrency":"GBP","url":"https://shop.example/p/1",
  "availability":"https://schema.org/InStock"}}]}
</script></head><body><h1>Navy striped shirt dress</h1></body></html>"""


def test_jsonld_product_page_yields_one_item_with_offer_fields():
    sp = spider(JsonLdProductSpider, sitemap_url="http://127.0.0.1:9/sitemap.xml")
    items = list(sp.parse_product(HtmlResponse("http://127.0.0.1:9/p/1.html", body=PRODUCT_PAGE.encode())))
    assert len(items) == 1
    item = dict(items[0])
    assert item == {
        "product_id": "SKU-1", "title": "Navy striped shirt dress", "brand": "Acme", "price": 49.9,
        "currency": "GBP", "page_url": "https://shop.example/p/1", "image_urls": ["https://cdn.example/img/1.jpg"],
        "availability": "InStock",
    }  # fmt: skip


def test_page_without_jsonld_is_a_counted_skip():
    sp = spider(JsonLdProductSpider, sitemap_url="http://127.0.0.1:9/sitemap.xml")
    page = b"<html><head><title>About us</title></head><body>hello</body></html>"
    assert list(sp.parse_product(HtmlResponse("http://127.0.0.1:9/about.html", body=page))) == []
    assert skipped(sp) == {"no-jsonld": 1}


def test_og_image_is_the_fallback_and_brand_may_be_plain_text():
    product = find_product(['[{"@type":["Product","Thing"],"name":"Coat","brand":"Plain","offers":[]}]'])
    fields = product_fields(product)
    assert fields["brand"] == "Plain" and fields["image"] is None and fields["price"] is None
    sp = spider(JsonLdProductSpider, sitemap_url="http://127.0.0.1:9/sitemap.xml")
    page = ('<meta property="og:image" content="/img/og.jpg"><script type="application/ld+json">'
            '{"@type":"Product","name":"Coat","sku":"C1"}</script>')  # fmt: skip
    (item,) = sp.parse_product(HtmlResponse("http://127.0.0.1:9/p/c1.html", body=page.encode()))
    assert item["image_urls"] == ["http://127.0.0.1:9/img/og.jpg"]


def ig_response(url, payload, status=200):
    return TextResponse(url, body=json.dumps(payload).encode(), status=status, request=Request(url))


def test_instagram_media_page_yields_images_skips_others_and_follows_next():
    sp = spider(InstagramHashtagSpider, api_base="http://127.0.0.1:9/v21.0", hashtag="#StreetStyle",
                user_id="1", token="t")  # fmt: skip
    payload = {
        "data": [
            {"id": "1", "media_type": "IMAGE", "media_url": "http://127.0.0.1:9/img/1.jpg",
             "permalink": "https://www.instagram.com/p/abc/", "caption": "#streetstyle", "like_count": 12,
             "timestamp": "2026-11-01T10:00:00+0000"},
            {"id": "2", "media_type": "VIDEO", "media_url": "http://127.0.0.1:9/v/2.mp4"},
            {"id": "3", "media_type": "CAROUSEL_ALBUM"},
        ],
        "paging": {"cursors": {"after": "X"}, "next": "http://127.0.0.1:9/v21.0/17/recent_media?after=X"},
    }  # fmt: skip
    out = list(sp.parse_media(ig_response("http://127.0.0.1:9/v21.0/17/recent_media", payload)))
    items = [o for o in out if not isinstance(o, Request)]
    requests = [o for o in out if isinstance(o, Request)]
    assert [i["product_id"] for i in items] == ["1"] and items[0]["likes"] == 12
    assert items[0]["page_url"] == "https://www.instagram.com/p/abc/"
    assert [r.url for r in requests] == [payload["paging"]["next"]]
    assert skipped(sp) == {"no-media": 2}
    assert sp.hashtag == "StreetStyle"


def test_instagram_expired_token_is_reported_not_crashed():
    sp = spider(InstagramHashtagSpider, api_base="http://127.0.0.1:9/v21.0", hashtag="x", user_id="1", token="t")
    error = {"error": {"message": "Error validating access token", "type": "OAuthException", "code": 190}}
    assert list(sp.parse_media(ig_response("http://127.0.0.1:9/v21.0/1/recent_media", error, 400))) == []
    assert skipped(sp) == {"expired-token": 1}


@pytest.mark.parametrize("cls, kwargs", [
    (InstagramHashtagSpider, {"api_base": "http://127.0.0.1:9", "hashtag": "x", "user_id": "1",
                              "conn_id": "instagram_unset"}),
    (PinterestSearchSpider, {"api_base": "http://127.0.0.1:9", "query": "q", "conn_id": "pinterest_unset"}),
    (InstagramHashtagSpider, {"api_base": "http://127.0.0.1:9", "hashtag": "x", "token": "t",
                              "conn_id": "instagram_unset"}),  # a token but no Instagram user id
])  # fmt: skip
def test_source_without_credentials_is_skipped_with_a_clear_reason(cls, kwargs):
    import asyncio

    sp = spider(cls, **kwargs)

    async def collect():
        return [r async for r in sp.start()]

    assert asyncio.run(collect()) == []
    assert skipped(sp) == {"no-credentials": 1}
    assert sp.crawler.stats.get_value("fti/source_skipped") == "no-credentials"


def test_token_comes_from_the_environment_named_by_the_connection(monkeypatch):
    monkeypatch.setenv("FTI_TOKEN_PINTEREST_PROD", "secret")
    sp = spider(PinterestSearchSpider, api_base="http://127.0.0.1:9", query="q", conn_id="pinterest_prod")
    assert sp.token == "secret"
    assert sp._request().headers["Authorization"] == b"Bearer secret"


def test_pinterest_page_yields_pins_and_follows_bookmark():
    sp = spider(PinterestSearchSpider, api_base="http://127.0.0.1:9/v5", query="london fashion week", token="t")
    payload = {
        "items": [
            {"id": "p1", "created_at": "2026-11-01T10:00:00", "link": "https://www.pinterest.com/pin/p1/",
             "title": "Runway", "description": "lfw", "save_count": 40,
             "media": {"media_type": "image", "images": {"150x150": {"url": "http://127.0.0.1:9/s.jpg"},
                                                         "1200x": {"url": "http://127.0.0.1:9/l.jpg"}}}},
            {"id": "p2", "media": {"media_type": "video"}},
        ],
        "bookmark": "B2",
    }  # fmt: skip
    out = list(sp.parse_pins(ig_response("http://127.0.0.1:9/v5/search/pins?query=x", payload)))
    items = [o for o in out if not isinstance(o, Request)]
    (nxt,) = [o for o in out if isinstance(o, Request)]
    assert [(i["product_id"], i["image_urls"], i["likes"]) for i in items] == [("p1", ["http://127.0.0.1:9/l.jpg"], 40)]
    assert "bookmark=B2" in nxt.url and "query=london+fashion+week" in nxt.url
    assert skipped(sp) == {"no-media": 1}
    assert best_image(None) is None
