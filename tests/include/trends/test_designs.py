from __future__ import annotations

import numpy as np
import pandas as pd

from include.core.lake import LocalLake
from include.trends.designs import build_catalog, portal_offers
from tests.include.trends.test_ranking import match


def unit(v):
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v)


def listings(rows):
    cols = ["sha256", "product_id", "portal", "title", "brand", "price", "currency", "product_url", "image_key"]
    return pd.DataFrame(rows, columns=cols)


def test_near_duplicates_across_portals_become_one_design_with_offers(tmp_path):
    """A real Milvus Lite collection: 'a' and its re-shot copy 'a9' (cosine 0.99) are one design."""
    from embedding.index import CatalogIndex

    rng = np.random.default_rng(1)
    base = rng.standard_normal(16)
    vectors = {"a": unit(base), "a9": unit(base + 0.1 * rng.standard_normal(16)),
               "b": unit(rng.standard_normal(16)), "c": unit(rng.standard_normal(16))}  # fmt: skip
    with CatalogIndex(str(tmp_path / "m.db"), "catalog_test", 16) as index:
        index.ensure()
        rows = [{"sha256": s, "source": "shop1" if s != "a9" else "shop2", "product_id": f"sku-{s}",
                 "title": f"T {s}", "price": 10.0 + i, "currency": "GBP", "page_url": f"https://shop/{s}"}
                for i, s in enumerate(vectors)]  # fmt: skip
        index.upsert(rows, np.stack(list(vectors.values())))
        matches = pd.DataFrame([match("p1", "a9", 0.9), match("p2", "b", 0.8)])
        # 'b' is also listed, byte-identical, by a third portal
        third = listings([("b", "X-1", "shop3", "T b", "B", 7.5, "EUR", "https://three/b", "images/full/b.jpg")])
        catalog = build_catalog(["a9", "b"], matches, third, index, threshold=0.97)
    assert catalog.method == "vectors"
    assert catalog.groups["a9"] == catalog.groups["a"] == "a"  # the smallest sha256 names the design
    assert catalog.groups["b"] == "b" and "c" not in catalog.groups
    offers = catalog.offers["a"]
    assert {(o["portal"], o["product_id"]) for o in offers} == {("demo", "sku-a9"), ("shop1", "sku-a")}
    assert [o["price"] for o in catalog.offers["b"]] == [7.5, 10.0]  # cheapest first
    assert set(catalog.vectors) == {"a", "b"} and abs(np.linalg.norm(catalog.vectors["a"]) - 1) < 1e-6


def test_without_an_index_designs_group_by_title_and_brand():
    matches = pd.DataFrame([match("p1", "x", 0.9), match("p2", "y", 0.9)])
    matches.loc[:, "title"] = "Red Gingham Dress"  # the same product on two portals
    catalog = build_catalog(["x", "y"], matches, listings([]), index=None)
    assert catalog.method == "sha256+title" and catalog.groups == {"x": "x", "y": "x"}
    assert catalog.vectors == {}


def test_portal_offers_read_the_latest_validated_batch_per_portal(tmp_path):
    lake = LocalLake(tmp_path)

    def batch(source, dt, rows, ok=True):
        prefix = f"batches/kind=portal/source={source}/dt={dt}/"
        frame = pd.DataFrame(rows, columns=["sha256", "source", "product_id", "page_url", "price"])
        lake.write_bytes(prefix + "manifest.parquet", frame.to_parquet(index=False))
        lake.write_text(prefix + "validation.json", '{"success": %s}' % ("true" if ok else "false"))

    batch("s1", "2026-11-01", [("a", "s1", "1", "u1", 5.0)])
    batch("s1", "2026-11-02", [("a", "s1", "1", "u1", 4.0)])
    batch("s1", "2026-11-03", [("a", "s1", "1", "u1", 3.0)])  # after the run date
    batch("s2", "2026-11-02", [("a", "s2", "9", "u9", 6.0)], ok=False)  # failed validation
    offers = portal_offers(lake, "2026-11-02")
    assert offers[["portal", "price"]].values.tolist() == [["s1", 4.0]]
