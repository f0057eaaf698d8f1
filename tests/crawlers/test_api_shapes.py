"""The API fixtures and the demo web's answers checked against the real APIs' own descriptions: Pinterest's official
v5 OpenAPI schemas and a real Instagram Graph API media listing (``../shared/data/real-pages/api``; skipped
without it)."""

from __future__ import annotations

import json
import urllib.request
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from crawlers.spiders.pinterest_search import PinterestSearchSpider
from include.demo.server import DEMO_BOARD_ID, PIN_BASE, DemoWeb
from include.demo.world import build_world
from tests.crawlers.loopback import fixture
from tests.crawlers.test_parsing import run, spider

BASE = "http://127.0.0.1:9"
GRAPH_ERROR_KEYS = {"message", "type", "code", "error_subcode", "is_transient", "fbtrace_id", "error_user_title",
                    "error_user_msg"}  # fmt: skip
HASHTAG_MEDIA_FIELDS = {"like_count", "comments_count"}  # documented on the hashtag edges, absent from /me/media


@pytest.fixture(scope="module")
def real_api():
    from benchmarks.parse_pages import REAL_PAGES

    folder = REAL_PAGES / "api"
    if not folder.exists():
        pytest.skip(f"real API samples not available at {folder}")
    return folder


@pytest.fixture(scope="module")
def openapi(real_api):
    validator = pytest.importorskip("openapi_schema_validator")
    spec = json.loads((real_api / "pinterest_v5_pins_openapi_excerpt.json").read_text())

    def check(name: str, value) -> None:
        schema = {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}
        validator.validate(value, schema, cls=validator.OAS30Validator)

    def parameters(path: str) -> set[str]:
        names = set()
        for param in spec["paths"][path]["get"]["parameters"]:
            if "$ref" in param:
                param = spec["components"]["parameters"][param["$ref"].rsplit("/", 1)[1]]
            names.add(param["name"])
        return names

    return check, parameters


def pins(name: str) -> dict:
    return json.loads(fixture(name).replace("{base}", BASE))


def test_pinterest_fixtures_follow_the_official_v5_schemas(openapi):
    check, _ = openapi
    for name in ("pinterest_partner_search_1.json", "pinterest_partner_search_2.json"):
        page = pins(name)
        check("Paginated", page)
        for item in page["items"]:
            check("SummaryPin", item)  # what search/partner/pins answers
    board = pins("pinterest_board_pins.json")
    check("Paginated", board)
    for item in board["items"]:
        check("Pin", item)
    for name in ("pinterest_401.json", "pinterest_403.json", "pinterest_404_board.json", "pinterest_429.json"):
        check("Error", pins(name))
    with pytest.raises(Exception, match="is a required property|is not of type"):  # the schemas do bite
        check("SummaryPin", {"id": "1", "media": {"media_type": "image", "images": {"600x": {"url": 5}}}})


def test_pinterest_requests_use_only_documented_parameters(openapi):
    _, parameters = openapi
    search = spider(PinterestSearchSpider, api_base=f"{BASE}/v5", term="q", locale="en-GB", token="t")
    (request,) = run(search.start())
    sent = set(parse_qs(urlsplit(search._request(bookmark="B").url).query)) | set(parse_qs(urlsplit(request.url).query))
    assert sent <= parameters("/search/partner/pins") and "page_size" not in sent
    boards = spider(PinterestSearchSpider, api_base=f"{BASE}/v5", boards="1", token="t")
    sent = set(parse_qs(urlsplit(boards._request("1", "B").url).query))
    assert sent <= parameters("/boards/{board_id}/pins")


def test_the_demo_webs_pinterest_answers_follow_the_official_schemas(openapi):
    check, _ = openapi
    auth = {"Authorization": "Bearer pina_demo"}
    with DemoWeb(build_world(seed=3, n_products=4, n_posts=12)) as web:
        for path in (f"/search/partner/pins?{urlencode({'term': 'x', 'country_code': 'GB'})}",
                     f"/boards/{DEMO_BOARD_ID}/pins"):  # fmt: skip
            with urllib.request.urlopen(urllib.request.Request(f"{web.url}{PIN_BASE}{path}", headers=auth)) as r:
                page = json.loads(r.read())
            check("Paginated", page)
            for item in page["items"]:
                check("Pin" if "/boards/" in path else "SummaryPin", item)


def test_instagram_fixtures_have_the_fields_of_real_graph_api_media(real_api):
    real = json.loads((real_api / "instagram_graph_v19_user_media_data.json").read_text())
    media_keys = set().union(*(set(m) for m in real)) | HASHTAG_MEDIA_FIELDS
    child_keys = set().union(*(set(c) for m in real for c in (m.get("children") or {}).get("data", [])))
    kinds = {m["media_type"] for m in real} | {
        c["media_type"] for m in real for c in m.get("children", {}).get("data", [])
    }
    for name in ("instagram_recent_media_1.json", "instagram_recent_media_2.json"):
        page = json.loads(fixture(name))
        assert set(page) == {"data", "paging"} and set(page["paging"]) <= {"cursors", "next", "previous"}
        for post in page["data"]:
            assert set(post) <= media_keys and post["media_type"] in kinds
            for child in (post.get("children") or {}).get("data", []):
                assert set(child) <= child_keys and child["media_type"] in kinds
    errors = [c["body"] for c in json.loads(fixture("instagram_throttling.json"))]
    errors += [json.loads(fixture(n)) for n in ("instagram_error_190.json", "instagram_error_10.json")]
    assert all(set(e) == {"error"} and set(e["error"]) <= GRAPH_ERROR_KEYS for e in errors)
