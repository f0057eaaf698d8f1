"""Real crawls of loopback servers answering in the documented shapes of the Instagram Graph and Pinterest v5 APIs:
album children, the usage headers and a throttling error, bookmark pagination, expired tokens, sources without
credentials — and no token in any URL or log line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

from crawlers.crawl import crawl_source
from include.core.layout import HEALTH, MANIFEST, VALIDATION, batch_prefix, quarantine_prefix
from tests.conftest import jpeg_bytes
from tests.crawlers.loopback import LoopbackSite, Reply, fixture

JSON = "application/json; charset=UTF-8"
TOKEN = "EAAGtestTOKENx9Qm2LsecretZZ"  # the value the fixtures' paging.next URLs echo, as the Graph API does
ROOT = Path(__file__).resolve().parents[2]
THROTTLED = json.loads(fixture("instagram_throttling.json"))[0]  # 403, error code 4, X-App-Usage at 100 %


def query(path: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(path).query).items()}


def app_usage(percent: int) -> dict[str, str]:
    return {"X-App-Usage": json.dumps({"call_count": percent, "total_cputime": 10, "total_time": 12})}


def instagram_media(site, n, path):
    """Page 1 (50 % used), page 2 (85 %: the crawler waits), then the application limit (code 4)."""
    if n == 1:
        return Reply(fixture("instagram_recent_media_1.json"), ctype=JSON, headers=app_usage(50))
    if n == 2:
        return Reply(fixture("instagram_recent_media_2.json"), ctype=JSON, headers=app_usage(85))
    return Reply(json.dumps(THROTTLED["body"]), THROTTLED["status"], JSON, THROTTLED["headers"])


def pinterest_search(site, n, path):
    bookmark = query(path).get("bookmark")
    if bookmark is None:
        return Reply(fixture("pinterest_partner_search_1.json"), ctype=JSON)
    if bookmark == "Y2JVSG81V2sxcmNHRlpWM1ZvVGxkV2JGUnN":
        page = json.loads(fixture("pinterest_partner_search_2.json"))
        return Reply(json.dumps({**page, "bookmark": "Y2JVSG81V2sxcmNHRlpWM1ZvVGxkV2JGUnN2"}), ctype=JSON)
    return Reply(fixture("pinterest_401.json"), 401, JSON)  # page 3: the token was revoked meanwhile


def images(*paths: str) -> dict[str, Reply]:
    return {p: Reply(jpeg_bytes((40 * i % 255, 90, 160), (96, 96)), ctype="image/jpeg") for i, p in enumerate(paths, 1)}


@pytest.fixture
def api():
    routes = {
        "/robots.txt": Reply("User-agent: *\nAllow: /\n", ctype="text/plain"),
        "/v21.0/ig_hashtag_search": Reply(fixture("instagram_hashtag_search.json"), ctype=JSON, headers=app_usage(10)),
        "/v21.0/17843853986012965/recent_media": instagram_media,
        "/v5/search/partner/pins": pinterest_search,
        **images("/cdn/ig/1.jpg", "/cdn/ig/3.jpg", "/cdn/ig/3b.jpg", "/cdn/ig/4.jpg", "/pinimg/1200x/a.jpg",
                 "/pinimg/1200x/c1.jpg", "/pinimg/600x/c2.jpg", "/pinimg/600x/b.jpg"),
    }  # fmt: skip
    with LoopbackSite(routes) as site:
        yield site


def instagram_source(api) -> dict:
    return {"name": "loopback_instagram", "kind": "social", "horizon": "current", "spider": "instagram_hashtag",
            "allow_private": True, "args": {"api_base": f"{api.url}/v21.0", "hashtag": "#StreetStyle",
                                            "conn_id": "instagram_test", "page_size": 4}}  # fmt: skip


def test_instagram_albums_usage_backoff_and_a_clean_stop_on_the_rate_limit(api, use_sources, monkeypatch):
    from include.core.settings import get_settings

    monkeypatch.setenv("FTI_TOKEN_INSTAGRAM_TEST", TOKEN)
    monkeypatch.setenv("FTI_USER_INSTAGRAM_TEST", "17841400000000001")  # the connection's login
    use_sources(instagram_source(api))
    summary = crawl_source("loopback_instagram", "2026-11-01")
    health = summary["health"]
    search = next(p for p in api.paths() if "ig_hashtag_search" in p)
    assert query(search) == {"user_id": "17841400000000001", "q": "StreetStyle"}
    api_calls = [(p, h) for p, h in api.headers if p.startswith("/v21.0")]
    assert all(h.get("Authorization") == f"Bearer {TOKEN}" and "access_token" not in p for p, h in api_calls)
    assert not [h for p, h in api.headers if p.startswith("/cdn/") and "Authorization" in h]  # never to the CDN
    assert summary["rows"] == 4  # page 1: an image and an album of two images (its video child skipped); page 2
    assert health["skipped"] == {"no-media": 2}  # a video post, an album without images
    assert health["stopped"] == "rate-limited" and health["stop_detail"]["code"] == 4
    assert health["status"] == (
        "loopback_instagram: rate-limited by the Instagram API (error 4: (#4) Application request limit reached) "
        "after 4 requests; 4 images stored; last good batch none"
    )
    assert health["throttle_wait_s"] == pytest.approx(0.4)  # 85 %: FTI_RETRY_BACKOFF_BASE 0.1 x 2^2 (demo pacing)
    pages = [t for t, p in api.requests if "/recent_media" in p]
    assert len(pages) == 3 and pages[2] - pages[1] >= 0.35
    prefix = batch_prefix("social", "loopback_instagram", "2026-11-01")
    manifest = pd.read_parquet(f"{get_settings().lake}/{prefix}{MANIFEST}")
    album = manifest[manifest["product_id"] == "18064116781612345"]
    assert len(album) == 2 and set(album["likes"]) == {1290}


def test_no_token_in_any_log_line_of_a_debug_crawl(api, use_sources, tmp_path):
    """``scrapy crawl`` at DEBUG (every request URL logged) against an API that echoes the token in its next-page
    URLs and, adversarially, in an error message: the token is in no line of the crawl's output."""
    echo = {"error": {"message": f"Invalid OAuth access token {TOKEN}", "type": "OAuthException", "code": 190}}
    api.routes["/v21.0/17843853986012965/recent_media"] = lambda site, n, path: (
        Reply(fixture("instagram_recent_media_1.json"), ctype=JSON) if n == 1 else Reply(json.dumps(echo), 400, JSON)
    )
    use_sources(instagram_source(api))
    env = {**os.environ, "FTI_TOKEN_INSTAGRAM_TEST": TOKEN, "FTI_USER_INSTAGRAM_TEST": "17841400000000001",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}  # fmt: skip
    proc = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "loopback_instagram", "-s", "LOG_LEVEL=DEBUG"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    assert "Crawled (200) <GET" in output and "/recent_media?" in output  # request URLs are logged at DEBUG
    assert "expired-token" in output and "[redacted]" in output  # the echoed error was logged, scrubbed
    assert TOKEN not in output and TOKEN[:12] not in output


def test_pinterest_partner_search_bookmark_pagination_then_revoked_token(api, use_sources, monkeypatch):
    from include.core.settings import get_settings

    monkeypatch.setenv("FTI_TOKEN_PINTEREST_TEST", "pina_test_token_1234")
    args = {"api_base": f"{api.url}/v5", "term": "london fashion week", "country_code": "GB",
            "conn_id": "pinterest_test", "page_size": 2}  # fmt: skip
    use_sources({"name": "loopback_pinterest", "kind": "social", "horizon": "upcoming", "spider": "pinterest_search",
                 "allow_private": True, "args": args})  # fmt: skip
    summary = crawl_source("loopback_pinterest", "2026-11-01")
    pages = [query(p) for p in api.paths() if p.startswith("/v5/search/partner/pins")]
    first = {"term": "london fashion week", "country_code": "GB", "limit": "2"}  # no page_size: not a parameter here
    bookmarks = ["Y2JVSG81V2sxcmNHRlpWM1ZvVGxkV2JGUnN", "Y2JVSG81V2sxcmNHRlpWM1ZvVGxkV2JGUnN2"]
    assert pages == [first, *({**first, "bookmark": b} for b in bookmarks)]
    assert summary["rows"] == 4 and summary["health"]["skipped"] == {"no-media": 1, "expired-token": 1}
    assert "/pinimg/150x150/a.jpg" not in api.paths()  # the largest rendition only
    prefix = batch_prefix("social", "loopback_pinterest", "2026-11-01")
    manifest = pd.read_parquet(f"{get_settings().lake}/{prefix}{MANIFEST}").set_index("image_url")
    pin = manifest.loc[f"{api.url}/pinimg/1200x/a.jpg"]
    assert pin["page_url"] == "https://www.pinterest.com/pin/813814595202345678/" and pd.isna(pin["likes"])


def test_source_without_credentials_is_skipped_and_validates_as_skipped(api, use_sources):
    from include.core.lake import LocalLake
    from include.core.settings import get_settings
    from include.ops.stages import validate_source

    use_sources({"name": "instagram_nocreds", "kind": "social", "horizon": "current", "spider": "instagram_hashtag",
                 "allow_private": True, "args": {"api_base": f"{api.url}/v21.0", "hashtag": "fashion",
                                                 "conn_id": "instagram_unset"}})  # fmt: skip
    summary = crawl_source("instagram_nocreds", "2026-11-01")
    assert summary["skipped"] == "no-credentials" and summary["rows"] == 0
    assert not [p for p in api.paths() if p.startswith("/v21.0")]  # no API call without a token
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
    monkeypatch.setenv("FTI_TOKEN_PINTEREST_TEST", "pina_test_token_1234")
    use_sources({"name": "loopback_pinterest", "kind": "social", "horizon": "upcoming", "spider": "pinterest_search",
                 "allow_private": True, "args": {"api_base": f"{api.url}/v5", "term": "q", "conn_id": "pinterest_test",
                                                 "page_size": 2, "max_pages": 1}})  # fmt: skip
    first = crawl_source("loopback_pinterest", "2026-11-01")
    second = crawl_source("loopback_pinterest", "2026-11-02")
    assert first["health"]["images_downloaded"] == 3 and second["health"]["images_downloaded"] == 0
    assert second["health"]["images_reused"] == 3 and second["rows"] == 3
    lake = open_lake(get_settings().lake, s3_server)
    assert len(lake.list("images/meta/")) == 3 and len(lake.list("images/full/")) == 3
    assert [p for p in api.paths() if p.startswith("/pinimg/")].count("/pinimg/1200x/a.jpg") == 1
