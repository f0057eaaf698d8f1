"""Real crawls of loopback servers answering in the documented shapes of the Instagram Graph and Pinterest v5 APIs:
pagination, 429 with Retry-After, expired tokens, and sources without credentials."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

from crawlers.crawl import crawl_source
from include.core.layout import HEALTH, MANIFEST, VALIDATION, batch_prefix, quarantine_prefix
from tests.conftest import jpeg_bytes
from tests.crawlers.loopback import LoopbackSite, Reply, fixture

JSON = "application/json; charset=UTF-8"


def query(path: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(path).query).items()}


def instagram_media(site, n, path):
    after = query(path).get("after")
    if after is None:
        return Reply(fixture("instagram_recent_media_1.json"), ctype=JSON)
    if after == "QVFIUmxtN2hfdXZAGQ2":  # page 2: rate limited once
        if n == 2:
            return Reply('{"error": {"message": "Application request limit reached", "code": 4}}', 429, JSON,
                         {"Retry-After": "1"})  # fmt: skip
        return Reply(fixture("instagram_recent_media_2.json"), ctype=JSON)
    return Reply(fixture("instagram_error_190.json"), 400, JSON)  # page 3: the token expired meanwhile


def pinterest_search(site, n, path):
    bookmark = query(path).get("bookmark")
    if bookmark is None:
        return Reply(fixture("pinterest_search_1.json"), ctype=JSON)
    if bookmark == "Y2JVSG81V2sxcmNHRlpWM1ZvVGxkV2JGUnN":
        return Reply(fixture("pinterest_search_2.json"), ctype=JSON)
    return Reply(fixture("pinterest_401.json"), 401, JSON)


def images(*paths: str) -> dict[str, Reply]:
    return {p: Reply(jpeg_bytes((40 * i % 255, 90, 160), (96, 96)), ctype="image/jpeg") for i, p in enumerate(paths, 1)}


@pytest.fixture
def api():
    routes = {
        "/robots.txt": Reply("User-agent: *\nAllow: /\n", ctype="text/plain"),
        "/v21.0/ig_hashtag_search": Reply(fixture("instagram_hashtag_search.json"), ctype=JSON),
        "/v21.0/17843853986012965/recent_media": instagram_media,
        "/v5/search/pins": pinterest_search,
        **images("/cdn/ig/1.jpg", "/cdn/ig/3.jpg", "/cdn/ig/4.jpg", "/pinimg/1200x/a.jpg", "/pinimg/600x/b.jpg"),
    }
    with LoopbackSite(routes) as site:
        yield site


def test_instagram_pagination_rate_limit_and_expired_token(api, use_sources, monkeypatch):
    monkeypatch.setenv("FTI_TOKEN_INSTAGRAM_TEST", "tok")
    monkeypatch.setenv("FTI_USER_INSTAGRAM_TEST", "17841400000000001")  # the connection's login
    use_sources({"name": "loopback_instagram", "kind": "social", "horizon": "current", "spider": "instagram_hashtag",
                 "allow_private": True, "args": {"api_base": f"{api.url}/v21.0", "hashtag": "#StreetStyle",
                                                 "conn_id": "instagram_test", "page_size": 3}})  # fmt: skip
    summary = crawl_source("loopback_instagram", "2026-11-01")
    health = summary["health"]
    search = next(p for p in api.paths() if "ig_hashtag_search" in p)
    assert query(search) == {"user_id": "17841400000000001", "q": "StreetStyle", "access_token": "tok"}
    assert summary["rows"] == 3  # page 1: an image and an album; page 2: an image; page 3: expired token
    assert health["skipped"] == {"no-media": 1, "expired-token": 1}
    assert health["http_429"] == 1 and health["retries"] == 1 and health["retry_wait_s"] >= 1.0
    page2 = [t for t, p in api.requests if "after=QVFIUmxtN2hfdXZAGQ2" in p]
    assert len(page2) == 2 and page2[1] - page2[0] >= 0.95  # the retry waited for Retry-After: 1
    from include.core.settings import get_settings

    prefix = batch_prefix("social", "loopback_instagram", "2026-11-01")
    manifest = pd.read_parquet(f"{get_settings().lake}/{prefix}{MANIFEST}")
    assert set(manifest["product_id"]) == {"18027939643069124", "18064116781612345", "17999999999000001"}
    assert manifest.set_index("product_id").loc["18064116781612345", "likes"] == 1290


def test_pinterest_bookmark_pagination_then_revoked_token(api, use_sources, monkeypatch):
    monkeypatch.setenv("FTI_TOKEN_PINTEREST_TEST", "pin-tok")
    use_sources({"name": "loopback_pinterest", "kind": "social", "horizon": "upcoming", "spider": "pinterest_search",
                 "allow_private": True, "args": {"api_base": f"{api.url}/v5", "query": "london fashion week",
                                                 "conn_id": "pinterest_test", "page_size": 2}})  # fmt: skip
    summary = crawl_source("loopback_pinterest", "2026-11-01")
    pages = [p for p in api.paths() if p.startswith("/v5/search/pins")]
    assert len(pages) == 3 and all("query=london+fashion+week" in p for p in pages)
    assert [query(p).get("bookmark") for p in pages] == [
        None, "Y2JVSG81V2sxcmNHRlpWM1ZvVGxkV2JGUnN", "Y2JVSG81V2sxcmNHRlpWM1ZvVGxkV2JGUnN2"
    ]  # fmt: skip
    assert summary["rows"] == 2 and summary["health"]["skipped"] == {"no-media": 1, "expired-token": 1}
    assert "/pinimg/150x150/a.jpg" not in api.paths()  # the largest rendition only


def test_source_without_credentials_is_skipped_and_validates_as_skipped(api, use_sources):
    from include.core.settings import get_settings
    from include.ops.stages import validate_source

    use_sources({"name": "instagram_nocreds", "kind": "social", "horizon": "current", "spider": "instagram_hashtag",
                 "allow_private": True, "args": {"api_base": f"{api.url}/v21.0", "hashtag": "fashion",
                                                 "conn_id": "instagram_unset"}})  # fmt: skip
    summary = crawl_source("instagram_nocreds", "2026-11-01")
    assert summary["skipped"] == "no-credentials" and summary["rows"] == 0
    assert not [p for p in api.paths() if p.startswith("/v21.0")]  # no API call without a token
    from include.core.lake import LocalLake

    lake = LocalLake(get_settings().lake)
    prefix = batch_prefix("social", "instagram_nocreds", "2026-11-01")
    assert lake.exists(prefix + HEALTH) and not lake.exists(prefix + MANIFEST)
    result = validate_source("instagram_nocreds", "2026-11-01")
    assert result["success"] and result["rows"] == 0 and result["skipped"] == "no-credentials"
    assert not lake.exists(prefix + VALIDATION)  # never counted as a validated batch
    assert not lake.list(quarantine_prefix("social", "instagram_nocreds", "2026-11-01"))


def test_incremental_crawl_on_an_s3_lake(api, use_sources, monkeypatch, s3_server, s3_bucket):
    from include.core.lake import open_lake
    from include.core.settings import get_settings

    monkeypatch.setenv("FTI_LAKE", f"s3://{s3_bucket}/fti")
    monkeypatch.setenv("FTI_S3_ENDPOINT_URL", s3_server)
    monkeypatch.setenv("FTI_TOKEN_PINTEREST_TEST", "pin-tok")
    use_sources({"name": "loopback_pinterest", "kind": "social", "horizon": "upcoming", "spider": "pinterest_search",
                 "allow_private": True, "args": {"api_base": f"{api.url}/v5", "query": "q", "conn_id": "pinterest_test",
                                                 "page_size": 2}})  # fmt: skip
    first = crawl_source("loopback_pinterest", "2026-11-01")
    second = crawl_source("loopback_pinterest", "2026-11-02")
    assert first["health"]["images_downloaded"] == 2 and second["health"]["images_downloaded"] == 0
    assert second["health"]["images_reused"] == 2 and second["rows"] == 2
    lake = open_lake(get_settings().lake, s3_server)
    assert len(lake.list("images/meta/")) == 2 and len(lake.list("images/full/")) == 2
    assert [p for p in api.paths() if p.startswith("/pinimg/")].count("/pinimg/1200x/a.jpg") == 1
