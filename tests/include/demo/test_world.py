"""The seeded demo world: catalog, planted trends, social posts, images and truth."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from include.demo.world import World, build_world

PHOTOS = Path(__file__).parents[3].parent / "shared/data/fashion-product-images"


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(seed=7, n_products=60, n_posts=40)


def test_same_seed_same_world(world: World) -> None:
    again = build_world(seed=7, n_products=60, n_posts=40)
    assert again.products == world.products and again.posts == world.posts
    for image_id in (world.products[0].image_id, world.posts[0].image_id):
        assert again.image_bytes(image_id) == world.image_bytes(image_id)


def test_different_seed_different_world(world: World) -> None:
    other = build_world(seed=8, n_products=60, n_posts=40)
    assert [p.design for p in other.products] != [p.design for p in world.products]
    assert other.image_bytes(other.products[0].image_id) != world.image_bytes(world.products[0].image_id)
    assert other.truth()["planted"] != world.truth()["planted"]


def test_catalog(world: World) -> None:
    assert len(world.products) == 60
    assert len({p.sku for p in world.products}) == 60
    portals = Counter(p.portal for p in world.products)
    assert portals["boutique"] == portals["outlet"] == 30
    for p in world.products:
        assert p.currency == "GBP" and p.price > 0 and round(p.price, 2) == p.price
        assert p.category == p.design.silhouette and p.image_id == f"p-{p.sku}"
        assert p.title and p.title[0].isupper() and p.brand


def test_posts_and_planted_trends(world: World) -> None:
    posts = world.posts
    assert len(posts) == 40
    nets = Counter(p.network for p in posts)
    assert 0.2 < nets["pinterest"] / 40 < 0.5
    assert all(p.timestamp.startswith("2026-11-01T") and p.timestamp.endswith("+00:00") for p in posts)
    assert [p.timestamp for p in posts] == sorted((p.timestamp for p in posts), reverse=True)
    assert all(p.image_id == f"s-{p.post_id}" for p in posts)
    assert len({p.post_id for p in posts}) == 40
    planted_posts = [p for p in posts if p.planted_sku]
    assert len(planted_posts) == 24  # 60 %

    truth = world.truth()
    assert truth["seed"] == 7 and truth["day"] == 0 and truth["n_products"] == 60 and truth["n_posts"] == 40
    planted = truth["planted"]
    assert len(planted) == 10 and len({t["sku"] for t in planted}) == 10
    skus = {p.sku: p for p in world.products}
    for t in planted:
        assert set(t) >= {"sku", "portal", "title", "horizon", "weight"}
        prod = skus[t["sku"]]
        assert prod.portal == t["portal"] and prod.title == t["title"]
    weights = [t["weight"] for t in planted]
    assert weights == sorted(weights, reverse=True) and weights[0] == 1.0 and weights[-1] == 0.5
    upcoming = {t["sku"] for t in planted if t["horizon"] == "upcoming"}
    assert len(upcoming) == 2
    for p in planted_posts:
        if p.planted_sku in upcoming:
            assert p.network == "pinterest"
    current_nets = Counter(p.network for p in planted_posts if p.planted_sku not in upcoming)
    assert current_nets["instagram"] > 3 * current_nets["pinterest"]
    per_sku = Counter(p.planted_sku for p in planted_posts)
    assert per_sku[planted[0]["sku"]] >= per_sku[planted[-1]["sku"]] >= 1

    noise = [p for p in posts if not p.planted_sku]
    catalog_noise = [p.source_sku for p in noise if p.source_sku]
    assert len(catalog_noise) == len(set(catalog_noise))
    assert not set(catalog_noise) & {t["sku"] for t in planted}
    assert all(p.caption.count("#") >= 2 for p in posts)
    assert all("#streetstyle" in p.caption for p in posts if p.network == "instagram")


def test_days_keep_the_catalog_and_move_the_trends(world: World) -> None:
    later = build_world(seed=7, n_products=60, n_posts=40, day=2)
    assert later.products == world.products and later.truth()["date"] == "2026-11-03"
    assert all(p.timestamp.startswith("2026-11-03T") for p in later.posts)
    assert not {p.post_id for p in later.posts} & {p.post_id for p in world.posts}  # new posts, new ids
    before = {t["sku"]: t for t in world.truth()["planted"]}
    after = {t["sku"]: t for t in later.truth()["planted"]}
    assert before.keys() == after.keys()
    directions = Counter(t["direction"] for t in before.values())
    assert directions == {"steady": 6, "rising": 2, "fading": 2}
    assert all(t["direction"] == "steady" for t in before.values() if t["horizon"] == "upcoming")
    for sku, t in before.items():
        change = {"rising": after[sku]["weight"] > t["weight"], "fading": after[sku]["weight"] < t["weight"],
                  "steady": after[sku]["weight"] == t["weight"]}[t["direction"]]  # fmt: skip
        assert change, (sku, t, after[sku])
    posts = lambda w, sku: sum(p.planted_sku == sku for p in w.posts)  # noqa: E731
    rising = [s for s, t in before.items() if t["direction"] == "rising"]
    fading = [s for s, t in before.items() if t["direction"] == "fading"]
    assert all(posts(later, s) > posts(world, s) for s in rising)
    assert all(posts(later, s) < posts(world, s) for s in fading)


def test_relisted_designs_are_sold_on_both_portals() -> None:
    plain = build_world(seed=7, n_products=60, n_posts=40)
    w = build_world(seed=7, n_products=60, n_posts=40, relist=2)
    assert w.products[:60] == plain.products and w.posts == plain.posts  # relisting changes nothing else
    relisted = [t for t in w.truth()["planted"] if t["relisted"]]
    assert len(relisted) == 2 and len(w.products) == 62
    for t in relisted:
        original, copy = w.product(t["sku"]), w.product(t["relisted"][0])
        assert copy.design == original.design and copy.portal != original.portal
        assert w.image_bytes(copy.image_id) != w.image_bytes(original.image_id)  # another shot of the same garment


def test_images_decode_at_expected_sizes(world: World) -> None:
    prod = Image.open(io.BytesIO(world.image_bytes(world.products[1].image_id)))
    post = Image.open(io.BytesIO(world.image_bytes(world.posts[1].image_id)))
    assert prod.format == post.format == "JPEG"
    assert prod.size == (256, 320) and post.size == (320, 320)
    with pytest.raises(KeyError):
        world.image_bytes("p-NOPE")
    with pytest.raises(KeyError):
        world.image_bytes("x-1")


@pytest.mark.skipif(not (PHOTOS / "styles.csv").is_file(), reason="real photo folder ../shared/data absent")
def test_world_of_real_photos() -> None:
    w = build_world(seed=3, n_products=40, n_posts=20, images_dir=str(PHOTOS))
    assert len(w.products) == 40 and len(w.posts) == 20
    first = w.products[0]
    assert first.photo and first.design is None and first.category
    assert w.image_bytes(first.image_id) == Path(first.photo).read_bytes()
    planted = {t["sku"] for t in w.truth()["planted"]}
    assert len(planted) == 10 and planted <= {p.sku for p in w.products}
    post = next(p for p in w.posts if p.planted_sku)
    assert post.photo == w.product(post.planted_sku).photo
    img = Image.open(io.BytesIO(w.image_bytes(post.image_id)))
    assert img.size == (320, 320)
