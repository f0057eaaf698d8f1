"""Each spider type's parsing of answers in the real shapes of the sites and APIs (offline, no reactor)."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from scrapy.exceptions import CloseSpider
from scrapy.http import HtmlResponse, Request, TextResponse
from scrapy.utils.test import get_crawler

from crawlers.spiders.graph_api import Usage, api_error, media_page, usage
from crawlers.spiders.instagram_hashtag import InstagramHashtagSpider
from crawlers.spiders.jsonld_product import JsonLdProductSpider
from crawlers.spiders.pinterest_search import PinterestSearchSpider, best_image, pin_page
from tests.crawlers.loopback import fixture

BASE = "http://127.0.0.1:9"


def spider(cls, **kwargs):
    return cls.from_crawler(get_crawler(cls), **kwargs)


def skipped(sp):
    return {k.split("/", 2)[2]: v for k, v in sp.crawler.stats.get_stats().items() if k.startswith("fti/skipped/")}


def run(callback) -> list:
    """Everything a callback yields (sync generator or async generator)."""
    if hasattr(callback, "__aiter__"):

        async def collect():
            return [x async for x in callback]

        return asyncio.run(collect())
    return list(callback)


def api_response(url, payload, status=200, headers=None):
    body = payload if isinstance(payload, str) else json.dumps(payload)
    return TextResponse(url, body=body.replace("{base}", BASE).encode(), status=status, headers=headers,
                        request=Request(url))  # fmt: skip


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


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


def test_product_page_yields_one_item_with_offer_fields_despite_a_broken_script():
    sp = spider(JsonLdProductSpider, sitemap_url=f"{BASE}/sitemap.xml")
    (item,) = run(sp.parse_product(HtmlResponse(f"{BASE}/p/1.html", body=PRODUCT_PAGE.encode())))
    assert dict(item) == {
        "product_id": "SKU-1", "title": "Navy striped shirt dress", "brand": "Acme", "price": 49.9,
        "currency": "GBP", "page_url": f"{BASE}/p/1.html", "image_urls": ["https://cdn.example/img/1.jpg"],
        "availability": "InStock",
    }  # fmt: skip


@pytest.mark.parametrize("page, reason", [
    (b"<html><head><title>About us</title></head><body>hello</body></html>", "no-product"),
    (b'<html><head><script type="application/ld+json">{"@type": "Product", "name": </script></head></html>',
     "bad-jsonld"),
    (b'<html><head><meta property="og:type" content="website"><meta property="og:title" content="Sale!">'
     b'<meta property="og:image" content="/banner.jpg"></head></html>', "no-product"),
])  # fmt: skip
def test_page_without_a_product_is_a_counted_skip(page, reason):
    sp = spider(JsonLdProductSpider, sitemap_url=f"{BASE}/sitemap.xml")
    assert run(sp.parse_product(HtmlResponse(f"{BASE}/about.html", body=page))) == []
    assert skipped(sp) == {reason: 1}


def test_og_image_fills_what_json_ld_lacks_and_a_product_without_image_is_skipped():
    sp = spider(JsonLdProductSpider, sitemap_url=f"{BASE}/sitemap.xml")
    page = ('<meta property="og:image" content="/img/og.jpg"><script type="application/ld+json">'
            '{"@type":"Product","name":"Coat","sku":"C1","brand":"Plain"}</script>')  # fmt: skip
    (item,) = run(sp.parse_product(HtmlResponse(f"{BASE}/p/c1.html", body=page.encode())))
    assert item["image_urls"] == [f"{BASE}/img/og.jpg"] and item["brand"] == "Plain" and item["price"] is None
    bare = b'<script type="application/ld+json">{"@type":"Product","name":"Coat"}</script>'
    assert run(sp.parse_product(HtmlResponse(f"{BASE}/p/c2.html", body=bare))) == []
    assert skipped(sp) == {"no-image": 1}


# -- Instagram Graph API -------------------------------------------------------------------------------------


def instagram(**kwargs):
    return spider(InstagramHashtagSpider, api_base=f"{BASE}/v21.0", hashtag="#StreetStyle", user_id="1",
                  token="EAAGtestTOKENx9Qm2LsecretZZ", **kwargs)  # fmt: skip


def test_instagram_page_gives_album_children_skips_videos_and_drops_the_echoed_token():
    sp = instagram()
    url = f"{BASE}/v21.0/17843853986012965/recent_media"
    out = run(sp.parse_media(api_response(url, fixture("instagram_recent_media_1.json"))))
    items = [o for o in out if not isinstance(o, Request)]
    (nxt,) = [o for o in out if isinstance(o, Request)]
    assert [(i["product_id"], i["image_urls"]) for i in items] == [
        ("18027939643069124", [f"{BASE}/cdn/ig/1.jpg"]),
        ("18064116781612345", [f"{BASE}/cdn/ig/3.jpg", f"{BASE}/cdn/ig/3b.jpg"]),  # the album's image children
    ]
    assert items[1]["likes"] == 1290 and items[1]["page_url"] == "https://www.instagram.com/p/DBx1cCCc3/"
    assert skipped(sp) == {"no-media": 2}  # a video, an album whose only child is a video without media_url
    assert "access_token" not in nxt.url and query(nxt.url)["after"] == "QVFIUmxtN2hfdXZAGQ2"
    assert nxt.headers["Authorization"] == b"Bearer EAAGtestTOKENx9Qm2LsecretZZ"
    assert sp.hashtag == "StreetStyle"


def test_instagram_first_request_carries_the_token_in_the_header_and_asks_for_album_children():
    sp = instagram()
    (first,) = run(sp.start())
    assert "access_token" not in first.url and query(first.url) == {"user_id": "1", "q": "StreetStyle"}
    assert first.headers["Authorization"] == b"Bearer EAAGtestTOKENx9Qm2LsecretZZ"
    (media,) = run(sp.parse_hashtag(api_response(first.url, fixture("instagram_hashtag_search.json"))))
    assert "children{id,media_type,media_url}" in query(media.url)["fields"] and query(media.url)["limit"] == "50"


@pytest.mark.parametrize("case", json.loads(fixture("instagram_throttling.json")), ids=lambda c: str(c["body"]["error"]["code"]))  # fmt: skip  # noqa: E501
def test_instagram_throttling_errors_stop_the_crawl_and_say_why(case):
    sp = instagram()
    response = api_response(f"{BASE}/v21.0/1/recent_media", case["body"], case["status"], case["headers"])
    with pytest.raises(CloseSpider):
        run(sp.parse_media(response))
    stats = sp.crawler.stats
    detail = stats.get_value("fti/stop_detail")
    code = case["body"]["error"]["code"]
    assert stats.get_value("fti/stopped") == "rate-limited" and detail["code"] == code
    assert f"error {code}:" in detail["what"] and stats.get_value("fti/source_skipped") == "rate-limited"
    assert detail["usage_percent"] == (100 if case["headers"] else 0)
    assert detail["regain_minutes"] == (19 if code == 80002 else 0)


@pytest.mark.parametrize("name, status, reason", [
    ("instagram_error_190.json", 400, "expired-token"), ("instagram_error_10.json", 403, "no-permission"),
])  # fmt: skip
def test_instagram_token_and_permission_errors_are_counted(name, status, reason):
    sp = instagram()
    assert run(sp.parse_media(api_response(f"{BASE}/v21.0/1/recent_media", fixture(name), status))) == []
    assert skipped(sp) == {reason: 1} and sp.crawler.stats.get_value("fti/stopped") is None
    assert api_error({"data": []}, 200) is None


def test_usage_headers_report_the_highest_share_and_the_wait():
    assert usage({}).percent == 0
    assert usage({b"X-App-Usage": b'{"call_count": 28, "total_time": 81, "total_cputime": 25}'}).percent == 81
    buc = b'{"1784": [{"type": "instagram", "call_count": 96, "total_cputime": 5, "total_time": 5, ' \
          b'"estimated_time_to_regain_access": 7}]}'  # fmt: skip
    assert usage({b"X-Business-Use-Case-Usage": buc}) == Usage(96, 7, "X-Business-Use-Case-Usage")
    assert usage({b"X-App-Usage": b"not json"}).percent == 0
    assert media_page({"data": []}) == ([], [], None)


@pytest.mark.parametrize("cls, kwargs", [
    (InstagramHashtagSpider, {"api_base": BASE, "hashtag": "x", "user_id": "1", "conn_id": "instagram_unset"}),
    (PinterestSearchSpider, {"api_base": BASE, "term": "q", "conn_id": "pinterest_unset"}),
    (InstagramHashtagSpider, {"api_base": BASE, "hashtag": "x", "token": "t", "conn_id": "instagram_unset"}),
])  # fmt: skip
def test_source_without_credentials_is_skipped_with_a_clear_reason(cls, kwargs):
    sp = spider(cls, **kwargs)
    assert run(sp.start()) == []
    assert skipped(sp) == {"no-credentials": 1}
    assert sp.crawler.stats.get_value("fti/source_skipped") == "no-credentials"


# -- Pinterest API v5 ----------------------------------------------------------------------------------------


def test_token_comes_from_the_environment_named_by_the_connection(monkeypatch):
    monkeypatch.setenv("FTI_TOKEN_PINTEREST_PROD", "pina_secret_123")
    sp = spider(PinterestSearchSpider, api_base=BASE, term="q", conn_id="pinterest_prod")
    assert sp.token == "pina_secret_123"
    assert sp._request().headers["Authorization"] == b"Bearer pina_secret_123"


def test_partner_search_pins_are_the_pins_own_pages_with_their_largest_images():
    sp = spider(PinterestSearchSpider, api_base=f"{BASE}/v5", term="london fashion week", country_code="gb",
                token="t", page_size=100)  # fmt: skip
    (first,) = run(sp.start())
    assert urlsplit(first.url).path == "/v5/search/partner/pins"
    assert query(first.url) == {"term": "london fashion week", "country_code": "GB", "limit": "50"}
    out = run(sp.parse_pins(api_response(first.url, fixture("pinterest_partner_search_1.json")), page=1))
    items = [o for o in out if not isinstance(o, Request)]
    (nxt,) = [o for o in out if isinstance(o, Request)]
    assert [(i["product_id"], i["page_url"], i["image_urls"]) for i in items] == [
        ("813814595202345678", "https://www.pinterest.com/pin/813814595202345678/", [f"{BASE}/pinimg/1200x/a.jpg"]),
        ("813814595202347777", "https://www.pinterest.com/pin/813814595202347777/",
         [f"{BASE}/pinimg/1200x/c1.jpg", f"{BASE}/pinimg/600x/c2.jpg"]),  # a carousel pin: each of its images
    ]  # fmt: skip
    assert items[1]["caption"] == "Three beige trench coats on a rail" and "likes" not in items[1]
    assert skipped(sp) == {"no-media": 1}  # the video pin
    assert query(nxt.url)["bookmark"] == "Y2JVSG81V2sxcmNHRlpWM1ZvVGxkV2JGUnN"
    last = run(sp.parse_pins(api_response(nxt.url, fixture("pinterest_partner_search_2.json")), page=2))
    assert [i["product_id"] for i in last] == ["813814595202341111"]  # bookmark null: the end
    assert best_image(None) is None and pin_page({"items": []}) == ([], [], None)


def test_boards_mode_reads_each_board_with_its_pin_dates():
    sp = spider(PinterestSearchSpider, api_base=f"{BASE}/v5", boards="549755885175, 549755885176", token="t")
    requests = run(sp.start())
    assert [urlsplit(r.url).path for r in requests] == ["/v5/boards/549755885175/pins", "/v5/boards/549755885176/pins"]
    assert query(requests[0].url) == {"page_size": "50"}
    (item,) = run(sp.parse_pins(api_response(requests[0].url, fixture("pinterest_board_pins.json")),
                                board="549755885175"))  # fmt: skip
    assert item["posted_at"] == "2026-11-20T18:22:01" and item["image_urls"] == [f"{BASE}/pinimg/1200x/d.jpg"]
    missing = api_response(requests[1].url, fixture("pinterest_404_board.json"), 404)
    assert run(sp.parse_pins(missing, board="549755885176")) == [] and skipped(sp) == {"unknown-board": 1}
    with pytest.raises(ValueError, match="search term or board ids"):
        spider(PinterestSearchSpider, api_base=BASE, token="t")


def test_pinterest_errors_expired_token_no_partner_access_and_rate_limit():
    sp = spider(PinterestSearchSpider, api_base=f"{BASE}/v5", term="q", token="t")
    url = f"{BASE}/v5/search/partner/pins?term=q"
    assert run(sp.parse_pins(api_response(url, fixture("pinterest_401.json"), 401))) == []
    assert run(sp.parse_pins(api_response(url, fixture("pinterest_403.json"), 403))) == []
    assert skipped(sp) == {"expired-token": 1, "no-partner-access": 1}
    assert sp.crawler.stats.get_value("fti/source_skipped") == "no-partner-access"
    with pytest.raises(CloseSpider):
        run(sp.parse_pins(api_response(url, fixture("pinterest_429.json"), 429)))
    assert sp.crawler.stats.get_value("fti/stopped") == "rate-limited"


def test_robots_txt_sitemap_lines_pass_sitemap_follow():
    from tests.crawlers.loopback import FIXTURES

    sp = spider(JsonLdProductSpider, sitemap_url="https://www.asos.com/robots.txt",
                sitemap_follow=r"www\.asos\.com/product-sitemap")  # fmt: skip
    robots = TextResponse("https://www.asos.com/robots.txt", body=(FIXTURES / "robots_asos.txt").read_bytes())
    assert [r.url for r in sp._parse_sitemap(robots)] == ["https://www.asos.com/product-sitemap-index-COM.xml"]
    every = spider(JsonLdProductSpider, sitemap_url="https://www.asos.com/robots.txt")
    assert len(list(every._parse_sitemap(robots))) == 8
