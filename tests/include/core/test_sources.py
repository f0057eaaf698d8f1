from __future__ import annotations

import pytest
import yaml
from pydantic import ValidationError

from include.core.sources import load_registry


def test_shipped_registry_is_valid_and_has_both_kinds():
    registry = load_registry()
    assert registry.of_kind("portal") and registry.of_kind("social")
    horizons = {s.horizon for s in registry.of_kind("social")}
    assert horizons == {"current", "upcoming"}
    args = registry.get("demo_boutique").resolved_args("http://127.0.0.1:9999/")
    assert args["sitemap_url"] == "http://127.0.0.1:9999/shop/boutique/sitemap.xml"


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"name": "x", "kind": "social", "spider": "instagram_hashtag"}, "needs a horizon"),
        ({"name": "x", "kind": "portal", "spider": "nope"}, "unknown spider type"),
        ({"name": "x", "kind": "portal", "horizon": "current", "spider": "jsonld_product"}, "only social"),
        ({"name": "Bad Name", "kind": "portal", "spider": "jsonld_product"}, "pattern"),
        (
            {
                "name": "x",
                "kind": "portal",
                "spider": "feed_article",
                "args": {"feed_url": "https://fashion.vignette.blogspot.com/feeds/posts/default"},
            },
            "cannot be a Blogger",
        ),
    ],
)
def test_bad_entries_get_clear_errors(tmp_path, entry, message):
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump({"sources": [entry]}))
    with pytest.raises(ValidationError, match=message):
        load_registry(path)


def test_duplicate_names_rejected(tmp_path):
    entry = {"name": "x", "kind": "portal", "spider": "jsonld_product"}
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump({"sources": [entry, entry]}))
    with pytest.raises(ValidationError, match="duplicate"):
        load_registry(path)


def test_unknown_source_names_the_known_ones():
    with pytest.raises(KeyError, match="demo_boutique"):
        load_registry().get("nope")


def test_registry_entries_match_what_the_sites_declare():
    """Editorial sites are marked, Blogger names are possible, feeds and sitemaps are the ones sites publish."""
    from pathlib import Path

    from scrapy.utils.sitemap import sitemap_urls_from_robots

    registry = load_registry()
    editorial = {s.name for s in registry.sources if s.editorial}
    assert editorial == {s.name for s in registry.sources if s.spider == "feed_article" and not s.allow_private}
    assert all(s.kind == "portal" for s in registry.sources if s.editorial)
    assert (
        registry.get("fashion_vignette").args["feed_url"] == "https://fashionvignette.blogspot.com/feeds/posts/default"
    )
    robots = (Path(__file__).parents[2] / "crawlers" / "fixtures" / "robots_asos.txt").read_bytes()
    declared = list(sitemap_urls_from_robots(robots, base_url="https://www.asos.com/robots.txt"))
    assert registry.get("asos").args["sitemap_url"] in declared  # a Sitemap: line of asos.com/robots.txt
    pinterest = [s for s in registry.sources if s.spider == "pinterest_search"]
    assert all("query" not in s.args and s.args["term"] and len(s.args["country_code"]) == 2 for s in pinterest)
