"""The demo web over real HTTP on 127.0.0.1: every route's shape, paging, auth errors and faults."""

from __future__ import annotations

import io
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest
from PIL import Image

from include.demo.server import DEMO_BOARD_ID, FAULT_SKUS, DemoWeb
from include.demo.world import World, build_world

IG = "/social/instagram/v21.0"
PIN = "/social/pinterest/v5"
FIELDS = "id,media_type,media_url,permalink,caption,like_count,comments_count,timestamp"
ALBUM_FIELDS = FIELDS + ",children{id,media_type,media_url}"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(seed=7, n_products=60, n_posts=40)


@pytest.fixture(scope="module")
def web(world: World) -> Iterator[DemoWeb]:
    with DemoWeb(world, faults=True) as server:
        yield server


@pytest.fixture(scope="module")
def plain(world: World) -> Iterator[DemoWeb]:
    with DemoWeb(world) as server:
        yield server


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, Any, bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def fetch_json(url: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    status, _, body = fetch(url, headers)
    return status, json.loads(body)


def ig_url(web: DemoWeb, tag_id: str, **params: str) -> str:
    query = {"user_id": "17841400000000001", "fields": FIELDS, "access_token": "tok", **params}
    return f"{web.url}{IG}/{tag_id}/recent_media?{urlencode(query)}"


def tag_id(web: DemoWeb, tag: str) -> str:
    q = urlencode({"user_id": "17841400000000001", "q": tag, "access_token": "tok"})
    status, body = fetch_json(f"{web.url}{IG}/ig_hashtag_search?{q}")
    assert status == 200 and len(body["data"]) == 1
    return body["data"][0]["id"]


def walk_ig(url: str) -> list[dict]:
    """Follow ``paging.next`` to the end; every answer reports its usage in ``X-App-Usage``."""
    items: list[dict] = []
    while url:
        status, headers, body = fetch(url)
        assert status == 200, body
        assert set(json.loads(headers["X-App-Usage"])) == {"call_count", "total_cputime", "total_time"}
        page = json.loads(body)
        items += page["data"]
        url = page.get("paging", {}).get("next")
    return items


def test_basics(web: DemoWeb, world: World) -> None:
    assert web.url.startswith("http://127.0.0.1:")
    assert fetch(web.url + "/robots.txt")[2] == b"User-agent: *\nAllow: /\n"
    assert fetch(web.url + "/health")[2] == b"ok"
    status, truth = fetch_json(web.url + "/truth.json")
    assert status == 200 and truth == json.loads(json.dumps(world.truth()))
    for path in (
        "/nope",
        "/shop/boutique/p/NOPE.html",
        "/shop/elsewhere/sitemap.xml",
        "/img/p-NOPE.jpg",
        f"{IG}/123/recent_media",
        f"/shop/outlet/p/{world.products_of('boutique')[0].sku}.html",
    ):
        assert fetch(web.url + path)[0] in (400, 404), path


def test_sitemaps_and_product_pages(web: DemoWeb, world: World) -> None:
    for portal in ("boutique", "outlet"):
        status, headers, body = fetch(f"{web.url}/shop/{portal}/sitemap.xml")
        assert status == 200 and "xml" in headers["Content-Type"]
        locs = [e.text for e in ElementTree.fromstring(body).iter(f"{SM}loc")]
        skus = [p.sku for p in world.products_of(portal)]
        assert locs[: len(skus)] == [f"{web.url}/shop/{portal}/p/{s}.html" for s in skus]
    prod = world.products_of("boutique")[3]
    page_url = f"{web.url}/shop/boutique/p/{prod.sku}.html"
    status, headers, body = fetch(page_url)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    text = body.decode()
    img_url = f"{web.url}/img/{prod.image_id}.jpg"
    assert re.search(r"<title>[^<]+</title>", text)
    assert f'<meta property="og:image" content="{img_url}">' in text
    assert '<meta property="og:title" content="' in text and "<nav>" in text and "<img " in text
    ld = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', text, re.S)[1])
    assert ld["@context"] == "https://schema.org" and ld["@type"] == "Product"
    assert ld["name"] == prod.title and ld["sku"] == prod.sku and ld["category"] == prod.category
    assert ld["brand"] == {"@type": "Brand", "name": prod.brand} and ld["image"] == [img_url]
    assert ld["description"]
    assert ld["offers"] == {
        "@type": "Offer",
        "price": f"{prod.price:.2f}",
        "priceCurrency": "GBP",
        "availability": "https://schema.org/InStock",
        "url": page_url,
    }
    status, headers, data = fetch(img_url)
    assert status == 200 and headers["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(data)).size == (256, 320)
    outlet = world.products_of("outlet")[2]
    text = fetch(f"{web.url}/shop/outlet/p/{outlet.sku}.html")[2].decode()
    group = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', text, re.S)[1])
    assert group["@type"] == "ProductGroup" and group["productGroupID"] == outlet.sku and "og:image" not in text
    sizes = [(v["sku"], v["size"], v["image"], v["offers"]["price"]) for v in group["hasVariant"]]
    price = f"{outlet.price:.2f}"
    assert sizes == [(f"{outlet.sku}-{s}", s, f"/img/{outlet.image_id}.jpg", price) for s in ("S", "M", "L")]


def test_host_header_drives_absolute_urls(web: DemoWeb) -> None:
    body = fetch(f"{web.url}/shop/boutique/sitemap.xml", {"Host": "localhost:9999"})[2].decode()
    assert "<loc>http://localhost:9999/shop/boutique/p/" in body


def test_instagram_feed_paging(web: DemoWeb, world: World) -> None:
    items = walk_ig(ig_url(web, tag_id(web, "streetstyle"), limit="7"))
    real = [i for i in items if i.get("media_url")]
    assert [i["id"] for i in real] == [p.post_id for p in world.posts_of("instagram")]
    first = real[0]
    assert set(first) == set(FIELDS.split(","))
    assert first["media_type"] == "IMAGE" and first["media_url"].startswith(web.url + "/img/s-")
    assert re.fullmatch(r"https://www\.instagram\.com/p/[\w-]+/", first["permalink"])
    assert re.fullmatch(r"2026-11-01T\d\d:\d\d:\d\d\+0000", first["timestamp"])
    assert isinstance(first["like_count"], int) and isinstance(first["comments_count"], int)
    assert "#streetstyle" in first["caption"]
    status, headers, data = fetch(first["media_url"])
    assert status == 200 and headers["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(data)).size == (320, 320)
    page = fetch_json(ig_url(web, tag_id(web, "streetstyle"), limit="500"))[1]
    assert "next" not in page["paging"] and set(page["paging"]["cursors"]) == {"after"}  # no `before` on hashtags
    only_id = fetch_json(ig_url(web, tag_id(web, "streetstyle"), fields="id", limit="2"))[1]
    assert all(set(i) == {"id"} for i in only_id["data"])


def test_instagram_errors(web: DemoWeb) -> None:
    tid = tag_id(web, "streetstyle")
    for token in ("", None):
        query = {"user_id": "1", "fields": FIELDS}
        if token is not None:
            query["access_token"] = token
        status, body = fetch_json(f"{web.url}{IG}/{tid}/recent_media?{urlencode(query)}")
        assert status == 400
        error = {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190}
        assert body == {"error": error}
    status, body = fetch_json(f"{web.url}{IG}/ig_hashtag_search?user_id=1&q=streetstyle")
    assert status == 400 and body["error"]["code"] == 190
    assert fetch_json(ig_url(web, "999"))[0] == 400
    assert fetch_json(ig_url(web, tag_id(web, "emptytag")))[1] == {"data": []}


def test_pinterest_partner_search_and_board_paging(web: DemoWeb, world: World) -> None:
    auth = {"Authorization": "Bearer pina_demo"}
    items, bookmark = [], None
    while True:
        query = {"term": "london fashion week", "country_code": "GB", "limit": "6"}
        if bookmark:
            query["bookmark"] = bookmark
        status, page = fetch_json(f"{web.url}{PIN}/search/partner/pins?{urlencode(query)}", auth)
        assert status == 200 and set(page) == {"items", "bookmark"}
        items += page["items"]
        bookmark = page["bookmark"]
        if bookmark is None:
            break
    assert [i["id"] for i in items] == [p.post_id for p in world.posts_of("pinterest")]
    pin = items[0]
    assert set(pin) == {"id", "title", "description", "link", "alt_text", "media"}  # SummaryPin
    assert pin["title"] and pin["description"]
    images = pin["media"]["images"]
    assert pin["media"]["media_type"] == "image" and set(images) >= {"150x150", "600x", "1200x"}
    for key, size in (("150x150", (150, 150)), ("600x", (320, 320))):
        status, headers, data = fetch(images[key]["url"])
        assert status == 200 and headers["Content-Type"] == "image/jpeg"
        assert Image.open(io.BytesIO(data)).size == size == (images[key]["width"], images[key]["height"])
    other = fetch_json(f"{web.url}{PIN}/search/partner/pins?term=anything&country_code=US", auth)[1]
    assert [i["id"] for i in other["items"]] == [i["id"] for i in items[:10]]  # limit defaults to 10
    capped = fetch_json(f"{web.url}{PIN}/search/partner/pins?term=x&country_code=US&limit=500", auth)[1]
    assert len(capped["items"]) == min(50, len(items))  # limit: at most 50
    assert fetch_json(f"{web.url}{PIN}/search/partner/pins?term=x", auth)[0] == 400  # country_code required
    status, body = fetch_json(f"{web.url}{PIN}/search/partner/pins?term=x&country_code=US")
    assert status == 401 and body == {"code": 2, "message": "Authentication failed."}
    status, board = fetch_json(f"{web.url}{PIN}/boards/{DEMO_BOARD_ID}/pins?page_size=250", auth)
    assert status == 200 and board["bookmark"] is None and len(board["items"]) == len(items)
    pin = board["items"][0]
    assert re.fullmatch(r"2026-11-01T\d\d:\d\d:\d\d", pin["created_at"]) and pin["board_id"] == DEMO_BOARD_ID
    assert re.fullmatch(r"#[0-9a-f]{6}", pin["dominant_color"]) and "save_count" not in pin
    assert fetch_json(f"{web.url}{PIN}/boards/42/pins", auth) == (404, {"code": 404, "message": "Board not found."})


def test_faults(web: DemoWeb) -> None:
    sitemap = fetch(f"{web.url}/shop/boutique/sitemap.xml")[2].decode()
    for sku in FAULT_SKUS:
        assert f"<loc>{web.url}/shop/boutique/p/{sku}.html</loc>" in sitemap
    page = fetch(f"{web.url}/shop/boutique/p/fault-nojsonld.html")
    assert page[0] == 200 and b"ld+json" not in page[2] and b"og:image" not in page[2]
    status, headers, body = fetch(f"{web.url}/shop/boutique/p/fault-challenge.html")
    assert status == 403 and headers["cf-mitigated"] == "challenge" and b"Just a moment..." in body

    def image_of(sku: str) -> tuple[int, Any, bytes]:
        text = fetch(f"{web.url}/shop/boutique/p/{sku}.html")[2].decode()
        return fetch(re.search(r'<meta property="og:image" content="([^"]+)"', text)[1])

    assert image_of("fault-img404")[0] == 404
    status, _, data = image_of("fault-truncated")
    assert status == 200 and data[:2] == b"\xff\xd8"
    with pytest.raises(OSError):
        Image.open(io.BytesIO(data)).load()
    status, headers, data = image_of("fault-html-as-jpeg")
    assert headers["Content-Type"] == "image/jpeg" and data.lstrip().startswith(b"<")
    status, _, data = image_of("fault-bomb")
    assert status == 200 and data.startswith(b"\x89PNG") and len(data) < 1000
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(data))
    assert Image.open(io.BytesIO(image_of("fault-tiny")[2])).size == (16, 16)

    page = fetch_json(ig_url(web, tag_id(web, "streetstyle"), limit="5", fields=ALBUM_FIELDS))[1]
    album = [i for i in page["data"] if "media_url" not in i]
    assert len(album) == 1 and album[0]["media_type"] == "CAROUSEL_ALBUM"
    assert album[0]["children"] == {"data": [{"id": "17999999999999998", "media_type": "VIDEO"}]}  # no image
    assert all("children" not in i for i in page["data"] if i["media_type"] == "IMAGE")


def test_a_second_page_reports_usage_near_the_limit_once(world: World) -> None:
    with DemoWeb(world, faults=True) as web:
        first = fetch(ig_url(web, tag_id(web, "streetstyle"), limit="5"))
        assert json.loads(first[1]["X-App-Usage"])["call_count"] == 12
        next_url = json.loads(first[2])["paging"]["next"]
        for expected in (80, 12):  # Instagram reports usage in headers; it never answers 429 + Retry-After
            status, headers, _ = fetch(next_url)
            assert status == 200 and json.loads(headers["X-App-Usage"])["call_count"] == expected


def test_faults_are_off_by_default(plain: DemoWeb, world: World) -> None:
    assert b"fault-" not in fetch(f"{plain.url}/shop/boutique/sitemap.xml")[2]
    assert fetch(f"{plain.url}/shop/boutique/p/fault-tiny.html")[0] == 404
    assert fetch(f"{plain.url}/img/p-fault-tiny.jpg")[0] == 404
    items = walk_ig(ig_url(plain, tag_id(plain, "streetstyle"), limit="10"))
    assert all("media_url" in i for i in items) and len(items) == len(world.posts_of("instagram"))


def test_concurrent_clients(web: DemoWeb, world: World) -> None:
    urls = [f"{web.url}/img/{p.image_id}.jpg" for p in world.products[:24]]
    urls += [f"{web.url}/img/{p.image_id}.jpg" for p in world.posts[:16]]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(fetch, urls))
    assert all(status == 200 and data[:2] == b"\xff\xd8" for status, _, data in results)


def test_head_and_stop(world: World) -> None:
    web = DemoWeb(world).start()
    url = web.url
    req = urllib.request.Request(url + "/health", method="HEAD")
    with urllib.request.urlopen(req, timeout=5) as r:
        assert r.status == 200 and r.headers["Content-Length"] == "2" and r.read() == b""
    web.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url + "/health", timeout=2)
