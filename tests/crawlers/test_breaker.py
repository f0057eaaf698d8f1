"""Bot walls: refusals recognised (403, challenge pages of the big vendors), the breaker opening after N in a row,
and a real crawl of a walled shop that stops early and says so plainly, through to the validate task."""

from __future__ import annotations

import json

import pytest
from scrapy.http import HtmlResponse, Request, Response
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.test import get_crawler

from crawlers.breaker import BlockedBySite, BotWallBreaker, refusal
from crawlers.crawl import crawl_source
from crawlers.spiders.jsonld_product import JsonLdProductSpider
from include.core.layout import HEALTH, MANIFEST, VALIDATION, batch_prefix
from tests.conftest import jpeg_bytes
from tests.crawlers.loopback import LoopbackSite, Reply, fixture

URL = "http://127.0.0.1:9/p/1.html"


def html(body: str | bytes, status: int = 200, headers: dict | None = None) -> HtmlResponse:
    data = body.encode() if isinstance(body, str) else body
    return HtmlResponse(URL, status=status, headers=headers, body=data, encoding="utf-8")


@pytest.mark.parametrize("response, why", [
    (html("<h1>Forbidden</h1>", 403), "HTTP 403"),
    (html(fixture("challenge_cloudflare.html"), 403, {"cf-mitigated": "challenge", "Server": "cloudflare"}),
     "challenge page (cf-mitigated)"),
    (html(fixture("challenge_cloudflare.html"), 429, {"cf-mitigated": "challenge"}), "challenge page (cf-mitigated)"),
    (html(fixture("challenge_cloudflare.html")), "challenge page"),  # a 200 challenge without the header
    (html("<html><head><title>Access Denied</title></head><body>You don't have permission to access this server."
          "<p>Reference #18.9e2d3b17.1733140000.2a4f</p></body></html>"), "challenge page"),  # Akamai
    (html("<script src='https://geo.captcha-delivery.com/captcha/?initialCid=x'></script>", 403,
          {"x-datadome": "protected"}), "challenge page (x-datadome)"),
    (html("<div id='px-captcha'></div>"), "challenge page"),  # PerimeterX / HUMAN "Press & Hold"
    (html("<script src='/_Incapsula_Resource?SWJIYLWA=1'></script>"), "challenge page"),  # Imperva
    (Response(URL, status=202, headers={"x-amzn-waf-action": "challenge"}), "challenge page (x-amzn-waf-action)"),
])  # fmt: skip
def test_refusals_are_recognised(response, why):
    assert refusal(response) == why


@pytest.mark.parametrize("response", [
    html(fixture("retail_product.html")), html("<h1>Not found</h1>", 404), html("<h1>Oops</h1>", 500),
    html("<html><script>var captchaLib = 1;</script>" + "<p>x</p>" * 60000 + "<title>captcha</title></html>"),
    Response(URL, status=200, headers={"x-datadome": "protected"}),  # DataDome tags pages it lets through too
])  # fmt: skip
def test_real_pages_are_not_refusals(response):
    assert refusal(response) is None


def test_breaker_opens_after_n_refusals_in_a_row_and_a_served_page_closes_the_count():
    crawler = get_crawler(JsonLdProductSpider)
    spider = JsonLdProductSpider.from_crawler(crawler, sitemap_url="http://127.0.0.1:9/sitemap.xml")
    breaker = BotWallBreaker(crawler, threshold=3, window=45.0)
    page = Request(URL, callback=spider.parse_product)

    def feed(response):
        try:
            return breaker.process_response(page, response, spider)
        except BlockedBySite:
            return None

    for response in (html("", 403), html("", 403), html(fixture("retail_product.html")), html("", 403), html("", 403)):
        feed(response)
    assert not breaker.open and breaker.in_a_row == 2  # the product page closed the count
    robots = Request("http://127.0.0.1:9/robots.txt", callback=NO_CALLBACK)
    assert breaker.process_response(robots, html("", 403), spider).status == 403  # not the spider's page
    feed(html(fixture("challenge_cloudflare.html")))
    assert breaker.open and crawler.stats.get_value("fti/stopped") == "blocked-by-site"
    with pytest.raises(BlockedBySite, match="circuit open"):  # pages still queued are not sent any more
        breaker.process_request(Request("http://127.0.0.1:9/p/2.html", callback=spider.parse_product), spider)
    assert breaker.process_request(robots, spider) is None
    assert crawler.stats.get_value("fti/skipped/blocked-by-site") == 5
    assert crawler.stats.get_value("fti/stop_detail") == {
        "reason": "blocked-by-site", "what": "blocked by the site", "requests": 6, "refusals_in_a_row": 3,
        "last_refusal": "challenge page",
    }  # fmt: skip
    fast = BotWallBreaker(crawler, threshold=100, window=0.0)  # or: nothing but refusals for the window
    for _ in range(3):
        with pytest.raises(BlockedBySite, match="^blocked-by-site: HTTP 403"):
            fast.process_response(page, html("", 403), spider)
    assert fast.open


def test_a_walled_shop_stops_early_and_validation_says_so_plainly(use_sources):
    from include.core.lake import LocalLake
    from include.core.settings import get_settings
    from include.ops.stages import SourceBlockedError, validate_source

    locs = "".join(f"<url><loc>{{base}}/p/{i}.html</loc></url>" for i in range(300))
    routes = {
        "/robots.txt": Reply("User-agent: *\nAllow: /\n", ctype="text/plain"),
        "/sitemap.xml": Reply(f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>',
                              ctype="application/xml"),
        **{f"/p/{i}.html": Reply(fixture("challenge_cloudflare.html"), 403, headers={"cf-mitigated": "challenge"})
           if i % 3 else Reply("<h1>Forbidden</h1>", 403) for i in range(300)},
        "/img/coat-1.jpg": Reply(jpeg_bytes(), ctype="image/jpeg"),
    }  # fmt: skip
    lake = LocalLake(get_settings().lake)
    good = batch_prefix("portal", "loopback_walled", "2026-11-29")  # the last batch that got through, validated
    lake.write_bytes(good + MANIFEST, b"parquet of an earlier day")
    lake.write_text(good + VALIDATION, json.dumps({"success": True, "rows": 40}))
    with LoopbackSite(routes) as site:
        use_sources({"name": "loopback_walled", "kind": "portal", "spider": "jsonld_product", "allow_private": True,
                     "args": {"sitemap_url": f"{site.url}/sitemap.xml"}})  # fmt: skip
        summary = crawl_source("loopback_walled", "2026-12-01")
        pages = [p for p in site.paths() if p.startswith("/p/")]
    health = summary["health"]
    assert summary["finish_reason"] == "blocked_by_site" and health["stopped"] == "blocked-by-site"
    assert 20 <= len(pages) < 40  # 20 refusals in a row, plus those already in the downloader; not 300 pages
    assert health["skipped"]["blocked-by-site"] >= 20 and summary["rows"] == 0
    requests = health["stop_detail"]["requests"]
    assert health["status"] == (f"loopback_walled: blocked by the site after {requests} requests; nothing stored; "
                                "last good batch 2026-11-29")  # fmt: skip
    prefix = batch_prefix("portal", "loopback_walled", "2026-12-01")
    assert lake.exists(prefix + HEALTH) and not lake.exists(prefix + MANIFEST)  # no empty batch
    with pytest.raises(SourceBlockedError, match="^loopback_walled: blocked by the site after .* 2026-11-29$"):
        validate_source("loopback_walled", "2026-12-01")
