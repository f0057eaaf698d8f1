"""The feed/article spider: RSS 2.0 and Atom parsing on saved responses, then real crawls on a loopback blog."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from PIL import Image
from scrapy.http import HtmlResponse, Request, TextResponse, XmlResponse
from scrapy.utils.test import get_crawler

from crawlers.crawl import crawl_source
from crawlers.spiders.feed_article import FeedArticleSpider, MalformedFeed, best_from_srcset, parse_feed
from include.core.lake import LocalLake
from include.core.layout import HEALTH, MANIFEST, batch_prefix
from tests.conftest import jpeg_bytes
from tests.crawlers.loopback import LoopbackSite, Reply, fixture

BASE = "https://blog.example"


def saved(name: str, base: str = BASE) -> bytes:
    return fixture(name).replace("{base}", base).encode()


def spider(**kwargs) -> FeedArticleSpider:
    return FeedArticleSpider.from_crawler(get_crawler(FeedArticleSpider), **{"feed_url": f"{BASE}/feed/", **kwargs})


def skipped(sp) -> dict[str, int]:
    return {k.split("/", 2)[2]: v for k, v in sp.crawler.stats.get_stats().items() if k.startswith("fti/skipped/")}


def test_wordpress_rss_entries_dates_and_enclosures():
    entries, next_url, wordpress = parse_feed(saved("wordpress_feed.xml"))
    assert wordpress and next_url is None
    assert [e["link"] for e in entries] == [
        f"{BASE}/2026/11/ss27-paris-highlights/", f"{BASE}/2026/11/botanical-noir/", f"{BASE}/private/members-preview/"
    ]  # fmt: skip
    first = entries[0]
    assert first["title"] == "Spring/Summer 2027 Print & Pattern Highlights: Paris Fashion Week"
    assert first["published"] == "2026-11-25T09:12:44+00:00" and first["author"] == "Patternbank"
    assert first["summary"].startswith("Florals, stripes and painterly checks") and "<" not in first["summary"]
    assert first["id"] == f"{BASE}/?p=101"
    assert entries[1]["images"] == [f"{BASE}/wp-content/uploads/2026/11/noir-feed.jpg"]


def test_blogger_atom_alternate_links_next_page_and_thumbnails():
    entries, next_url, wordpress = parse_feed(saved("blogger_feed.xml"))
    assert not wordpress
    assert next_url == f"{BASE}/feeds/posts/default?start-index=3&max-results=2"
    links = [e["link"] for e in entries]
    assert links == [f"{BASE}/2026/11/copenhagen-camel-coat.html", f"{BASE}/2026/11/milan-blazer.html"]
    assert entries[0]["published"] == "2026-11-25T19:04:00.000+00:00"
    assert entries[0]["images"] == ["https://blogger.googleusercontent.com/img/b/R29v/s72-c/cph.jpg"]


@pytest.mark.parametrize(
    "body",
    [
        fixture("malformed_feed.xml").encode(),  # a WordPress error page where the feed should be
        b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"></urlset>',
        b"",
        b"<rss><channel><item><title>unterminated",
    ],
)
def test_malformed_feeds_are_refused(body):
    with pytest.raises(MalformedFeed):
        parse_feed(body)


def test_external_entities_are_never_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    body = (f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">]>'
            '<rss version="2.0"><channel><item><title>a &xxe; b</title><link>https://x.example/a</link></item>'
            "</channel></rss>").encode()  # fmt: skip
    entries, _, _ = parse_feed(body)
    assert "TOP-SECRET" not in json.dumps(entries)


def test_feed_page_yields_articles_then_the_next_wordpress_page():
    sp = spider(max_pages=2)
    response = XmlResponse(f"{BASE}/feed/", body=saved("wordpress_feed.xml"))
    out = list(sp.parse_feed(response, page=1))
    assert [r.url for r in out[:3]] == [e["link"] for e in parse_feed(saved("wordpress_feed.xml"))[0]]
    assert all(r.callback == sp.parse_article for r in out[:3])
    (nxt,) = out[3:]
    assert nxt.url == f"{BASE}/feed/?paged=2" and nxt.cb_kwargs == {"page": 2}
    assert list(sp.parse_feed(XmlResponse(nxt.url, body=saved("wordpress_feed_page2.xml")), page=2))[-1].url.endswith(
        "/2026/11/botanical-noir/"
    )  # max_pages reached: no third page


def test_atom_feed_follows_rel_next_and_malformed_feed_is_counted():
    sp = spider(feed_url=f"{BASE}/feeds/posts/default")
    out = list(sp.parse_feed(XmlResponse(f"{BASE}/feeds/posts/default", body=saved("blogger_feed.xml")), page=1))
    assert out[-1].url == f"{BASE}/feeds/posts/default?start-index=3&max-results=2"
    bad = HtmlResponse(f"{BASE}/feed/", body=fixture("malformed_feed.xml").encode())
    assert list(sp.parse_feed(bad, page=1)) == []
    assert skipped(sp) == {"malformed-feed": 1}


def test_article_images_og_first_srcset_lazy_dedup_and_scope():
    sp = spider()
    page = HtmlResponse(f"{BASE}/2026/11/ss27-paris-highlights/", body=saved("wordpress_article.html"))
    entry = parse_feed(saved("wordpress_feed.xml"))[0][0]
    (item,) = sp.parse_article(page, entry=entry)
    uploads = f"{BASE}/wp-content/uploads/2026/11"
    assert item["image_urls"] == [
        f"{uploads}/paris-hero.jpg",  # og:image
        f"{uploads}/paris-1.jpg",  # the widest srcset candidate, not src; its plain duplicate dropped
        f"{uploads}/paris-2.jpg",  # data-src behind a data: placeholder, made absolute
        f"{uploads}/paris-3.webp",
        f"{uploads}/paris-4.jpg",
    ]  # the logo and the related-posts aside are outside the article
    assert item["title"] == entry["title"] and item["brand"] == "Patternbank Blog"
    assert item["posted_at"] == "2026-11-25T09:12:44+00:00" and item["product_id"] == f"{BASE}/?p=101"
    capped = spider(max_images=2, image_selector=".entry-content img")
    assert len(next(iter(capped.parse_article(page, entry=entry)))["image_urls"]) == 2


def test_blogger_article_and_pages_without_images():
    sp = spider()
    page = HtmlResponse(f"{BASE}/2026/11/copenhagen-camel-coat.html", body=saved("blogger_article.html"))
    (item,) = sp.parse_article(page)
    assert item["image_urls"] == [
        "https://blogger.googleusercontent.com/img/b/R29v/w1200-h630-p-k-no-nu/cph.jpg",
        "https://blogger.googleusercontent.com/img/b/R29v/s640/cph.jpg",
    ]
    assert item["title"] == "Copenhagen: camel coat and white sneakers"
    assert list(sp.parse_article(HtmlResponse(f"{BASE}/a", body=b"<html><p>text only</p></html>"))) == []
    pdf = TextResponse(f"{BASE}/b.pdf", body=b"%PDF-1.7", request=Request(f"{BASE}/b.pdf"))
    assert list(sp.parse_article(pdf)) == []
    assert skipped(sp) == {"no-image": 1, "not-html": 1}


@pytest.mark.parametrize("srcset, best", [
    ("a.jpg 300w, b.jpg 1200w, c.jpg 768w", "b.jpg"), ("a.jpg 1x, b.jpg 2x", "b.jpg"), ("only.jpg", "only.jpg"),
    ("", None),
])  # fmt: skip
def test_best_from_srcset(srcset, best):
    assert best_from_srcset(srcset) == best


# -- a real crawl of a loopback WordPress blog -------------------------------------------------------------------

ARTICLE_NOIR = ('<html><head><meta property="og:site_name" content="Patternbank Blog"></head><body><article>'
                '<div class="entry-content"><img src="/img/noir.jpg"></div></article></body></html>')  # fmt: skip
HOSTILE = ('<html><head><meta property="og:image" content="/img/huge.jpg"></head><body><article>'
           '<img src="/img/not-an-image.jpg"><img src="/img/redirect.jpg"><img src="/img/ok.jpg">'
           "</article></body></html>")  # fmt: skip


def image(color, fmt="JPEG") -> Reply:
    if fmt == "JPEG":
        return Reply(jpeg_bytes(color, (96, 96)), ctype="image/jpeg")
    buf = io.BytesIO()
    Image.new("RGB", (96, 96), color).save(buf, fmt)
    return Reply(buf.getvalue(), ctype=f"image/{fmt.lower()}")


def blog_routes() -> dict:
    uploads = "/wp-content/uploads/2026/11"
    rss = "application/rss+xml; charset=UTF-8"
    return {
        "/robots.txt": Reply("User-agent: *\nDisallow: /private/\n", ctype="text/plain"),
        "/feed/": Reply(fixture("wordpress_feed.xml"), ctype=rss),
        "/feed/?paged=2": Reply(fixture("wordpress_feed_page2.xml"), ctype=rss),
        "/feed/?paged=3": Reply(fixture("malformed_feed.xml")),  # WordPress broke on page 3
        "/2026/11/ss27-paris-highlights/": Reply(fixture("wordpress_article.html")),
        "/2026/11/botanical-noir/": Reply(ARTICLE_NOIR),
        "/2026/11/hostile/": Reply(HOSTILE),
        "/private/members-preview/": Reply("<html><article><img src='/img/secret.jpg'></article></html>"),
        f"{uploads}/paris-hero.jpg": image((200, 30, 30)),
        f"{uploads}/paris-1.jpg": image((30, 200, 30)),
        f"{uploads}/paris-2.jpg": image((30, 30, 200)),
        f"{uploads}/paris-3.webp": image((200, 200, 30), "WEBP"),
        f"{uploads}/paris-4.jpg": image((200, 30, 200)),
        f"{uploads}/noir-feed.jpg": image((10, 10, 10)),
        "/img/noir.jpg": image((60, 60, 60)),
        "/img/ok.jpg": image((120, 90, 60)),
        "/img/huge.jpg": Reply(b"\xff\xd8" + b"\0" * 300_000, ctype="image/jpeg"),  # > FTI_MAX_IMAGE_BYTES
        "/img/not-an-image.jpg": Reply("<html>soft 404</html>", ctype="text/html"),
        "/img/redirect.jpg": lambda site, n, path: Reply(
            status=302, headers={"Location": site.url.replace("127.0.0.1", "127.0.0.2") + "/img/ok.jpg"}
        ),
    }  # fmt: skip


@pytest.fixture
def blog(use_sources, monkeypatch):
    monkeypatch.setenv("FTI_MAX_IMAGE_BYTES", "200000")
    with LoopbackSite(blog_routes()) as site:
        use_sources({"name": "loopback_blog", "kind": "social", "horizon": "upcoming", "spider": "feed_article",
                     "allow_private": True, "args": {"feed_url": f"{site.url}/feed/", "max_pages": 3}})  # fmt: skip
        yield site


def test_blog_crawl_pagination_hostile_article_robots_then_incremental_recrawl(blog):
    from include.core.settings import get_settings

    lake = LocalLake(get_settings().lake)
    first = crawl_source("loopback_blog", "2026-11-01")
    health = first["health"]
    assert "/feed/?paged=2" in blog.paths() and "/feed/?paged=3" in blog.paths()  # WordPress pagination
    assert not [p for p in blog.paths() if p.startswith("/private/")]  # robots.txt obeyed
    assert blog.paths().count("/2026/11/botanical-noir/") == 1  # listed on both feed pages, fetched once
    assert health["skipped"] == {
        "malformed-feed": 1,  # page 3
        "over-max-size": 1,  # over DOWNLOAD_MAXSIZE
        "undecodable": 1,  # HTML served for an image
        "blocked-address": 1,  # redirect to 127.0.0.2, a loopback host the source does not allow
        "robots-disallowed": 1,  # the /private/ article robots.txt refuses (never fetched, now counted)
    }
    prefix = batch_prefix("social", "loopback_blog", "2026-11-01")
    manifest = pd.read_parquet(lake.uri(prefix + MANIFEST))
    per_article = manifest.groupby("page_url").size().to_dict()
    assert per_article == {f"{blog.url}/2026/11/ss27-paris-highlights/": 5, f"{blog.url}/2026/11/botanical-noir/": 2,
                           f"{blog.url}/2026/11/hostile/": 1}  # fmt: skip
    assert health["images_downloaded"] == 8 and health["images_reused"] == 0 and health["pages"] == 6

    requests_before = len(blog.requests)
    second = crawl_source("loopback_blog", "2026-11-02")
    again = pd.read_parquet(lake.uri(batch_prefix("social", "loopback_blog", "2026-11-02") + MANIFEST))
    assert second["health"]["images_downloaded"] == 0 and second["health"]["images_reused"] == 8
    assert sorted(again["sha256"]) == sorted(manifest["sha256"])  # the day's manifest is complete
    cols = ["sha256", "image_key", "width", "height", "format", "bytes"]
    assert (
        again.sort_values("sha256")[cols]
        .reset_index(drop=True)
        .equals(manifest.sort_values("sha256")[cols].reset_index(drop=True))
    )
    stored = ("/wp-content/", "/img/noir", "/img/ok")
    refetched = [p for _, p in blog.requests[requests_before:] if p.startswith(stored)]
    assert refetched == []  # stored images are not downloaded again
    assert json.loads(lake.read_text(prefix + HEALTH))["items"] == 8
