"""Real crawls (one process each, as in production) of the demo web on 127.0.0.1, bad inputs included."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from crawlers.crawl import crawl_source
from include.core.lake import LocalLake
from include.core.layout import HEALTH, MANIFEST, SKIPS, batch_prefix
from include.demo.server import DemoWeb
from include.demo.world import build_world

DT = "2026-11-01"


@pytest.fixture(scope="module")
def world():
    return build_world(seed=5, n_products=24, n_posts=30)


@pytest.fixture(scope="module")
def web(world):
    with DemoWeb(world, port=0, faults=True) as server:
        yield server


@pytest.fixture
def registry(tmp_path, monkeypatch, web):
    """The shipped registry plus a social source whose hashtag feed is empty."""
    from include.core.settings import PACKAGE_DIR, get_settings

    data = yaml.safe_load((PACKAGE_DIR / "sources.yaml").read_text())
    street = next(s for s in data["sources"] if s["name"] == "demo_instagram_streetstyle")
    street["args"]["page_size"] = 8  # several pages: pagination, and the demo web's usage near the limit on page 2
    empty = dict(street)
    empty.update(name="demo_instagram_empty", args={**empty["args"], "hashtag": "emptytag"})
    data["sources"].append(empty)
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(data))
    monkeypatch.setenv("FTI_SOURCES_FILE", str(path))
    monkeypatch.setenv("FTI_DEMO_WEB_URL", web.url)
    get_settings.cache_clear()
    return LocalLake(get_settings().lake)


def test_portal_crawl_counts_every_bad_input_and_keeps_the_good(registry, world):
    summary = crawl_source("demo_boutique", DT)
    lake = registry
    prefix = batch_prefix("portal", "demo_boutique", DT)
    manifest = pd.read_parquet(lake.uri(prefix + MANIFEST))
    health = json.loads(lake.read_text(prefix + HEALTH))
    good = {p.sku for p in world.products_of("boutique")}
    assert set(manifest["product_id"]) == good and summary["rows"] == len(good)
    assert health["skipped"] == {
        "no-product": 1,  # a product page without JSON-LD, microdata, RDFa or Open Graph
        "blocked-by-site": 1,  # a 403 challenge page of a bot wall (one: the breaker stays closed)
        "http-404": 1,  # an image URL answering 404
        "undecodable": 2,  # a truncated JPEG, HTML served as image/jpeg
        "decompression-bomb": 1,  # a PNG declaring 30000x30000 pixels
        "too-small": 1,  # a 16x16 image
    }
    assert health["http_errors"] == 2 and health["items"] == len(good) and health["stopped"] is None
    skips = [json.loads(line) for line in lake.read_text(prefix + SKIPS).splitlines()]
    assert len(skips) == sum(health["skipped"].values())  # the full per-URL list, one line per counted skip
    assert {s["reason"] for s in skips} == set(health["skipped"]) and all(s["url"] for s in skips)
    assert manifest["sha256"].is_unique and manifest["format"].eq("JPEG").all()
    for key in manifest["image_key"]:
        assert lake.exists(key)


def test_social_crawl_skips_posts_without_media_and_slows_down_on_the_usage_headers(registry, world):
    summary = crawl_source("demo_instagram_streetstyle", DT)
    health = summary["health"]
    assert summary["rows"] == len(world.posts_of("instagram"))
    assert health["skipped"] == {"no-media": 1}  # the album whose only child is a video
    assert health["throttle_wait_s"] == pytest.approx(0.2) and health["stopped"] is None  # 80 %: 0.1 s x 2^1
    assert health["pages"] >= 1 + len(world.posts_of("instagram")) // 8  # hashtag search + every feed page


def test_empty_feed_never_replaces_a_stored_batch(registry):
    prefix = batch_prefix("social", "demo_instagram_empty", DT)
    first = crawl_source("demo_instagram_empty", DT)
    assert first["rows"] == 0 and registry.exists(prefix + MANIFEST)  # an empty batch, for validation to refuse
    registry.write_bytes(prefix + MANIFEST, b"previous good batch")
    again = crawl_source("demo_instagram_empty", DT)
    assert again["health"]["kept_previous_batch"] is True
    assert registry.read_bytes(prefix + MANIFEST) == b"previous good batch"
