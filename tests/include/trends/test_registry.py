"""The design registry keeps design ids stable across three dates while the catalog is re-crawled."""

from __future__ import annotations

import numpy as np
import pandas as pd

from include.core.lake import LocalLake
from include.core.layout import design_registry_key
from include.trends.designs import build_catalog
from include.trends.registry import assign_ids, read_design_registry
from tests.include.trends.test_designs import listings, unit
from tests.include.trends.test_ranking import match

DATES = ["2026-11-01", "2026-11-02", "2026-11-03"]


def test_design_ids_stay_stable_across_three_dates_with_a_recrawled_catalog(tmp_path):
    """A real Milvus Lite collection re-crawled each night: images re-encoded (new sha256), copies dropped."""
    from embedding.index import CatalogIndex

    rng = np.random.default_rng(3)
    look_a, look_b, look_c = (rng.standard_normal(16) for _ in range(3))

    def near(base):
        return unit(base + 0.05 * rng.standard_normal(16))

    nights = [  # (catalog sha256 -> (portal, vector), voted images)
        ({"a": ("shop1", near(look_a)), "a2": ("shop2", near(look_a)), "b": ("shop1", near(look_b))}, ["a2", "b"]),
        # shop1 re-encodes a: a new, smaller sha256 "0a" that would name the group by itself
        ({"0a": ("shop1", near(look_a)), "a2": ("shop2", near(look_a)), "b": ("shop1", near(look_b))}, ["0a", "b"]),
        # shop2 drops its copy, shop1 re-encodes again ("00a": no image the registry knows), and a new design c
        ({"00a": ("shop1", near(look_a)), "b": ("shop1", near(look_b)), "c": ("shop1", unit(look_c))},
         ["00a", "b", "c"]),
    ]  # fmt: skip
    lake = LocalLake(tmp_path / "lake")
    ids, naive = [], []
    with CatalogIndex(str(tmp_path / "m.db"), "catalog_test", 16) as index:
        index.ensure()
        for dt, (catalog_now, voted) in zip(DATES, nights, strict=True):
            index.delete([s for s in ("a", "0a", "00a", "a2", "b", "c") if s not in catalog_now])
            rows = [{"sha256": s, "source": p, "product_id": f"sku-{s}", "title": f"T {s}", "price": 10.0,
                     "currency": "GBP", "page_url": f"https://{p}/{s}"}
                    for s, (p, _) in catalog_now.items()]  # fmt: skip
            index.upsert(rows, np.stack([v for _, v in catalog_now.values()]))
            matches = pd.DataFrame([match(f"p{i}", s, 0.9) for i, s in enumerate(voted)])
            catalog = build_catalog(voted, matches, listings([]), index, threshold=0.97)
            naive.append({s: catalog.groups[s] for s in voted})
            registry, notes = read_design_registry(lake, dt)
            assert notes == []
            stable, updated, stats = assign_ids(catalog, registry, dt, threshold=0.97)
            lake.write_bytes(design_registry_key(dt), updated.to_parquet(index=False))
            ids.append({s: stable.groups[s] for s in voted})
            if dt == DATES[1]:
                assert stats == {"by_member": 2, "by_vector": 0, "new": 0, "carried": 0}
                assert stable.meta["a"]["product_id"] == "sku-0a"  # the design's listing tonight
                assert {o["product_id"] for o in stable.offers["a"]} == {"sku-0a", "sku-a2"}
            if dt == DATES[2]:  # 00a joins a by its vector; c is new
                assert stats == {"by_member": 1, "by_vector": 1, "new": 1, "carried": 0}
    assert naive[1]["0a"] == "0a" and naive[2]["00a"] == "00a"  # without the registry the id would move
    assert [night[s] for night, s in zip(ids, ["a2", "0a", "00a"], strict=True)] == ["a", "a", "a"]
    assert [night["b"] for night in ids] == ["b", "b", "b"] and ids[2]["c"] == "c"
    final = read_design_registry(lake, "2026-11-04")[0].set_index("design_id")
    assert set(final.loc["a", "members"]) == {"a", "a2", "0a", "00a"} and final.loc["a", "first_dt"] == DATES[0]
    assert final.loc["c", "first_dt"] == DATES[2] and list(final.index) == ["a", "b", "c"]
    # Rerunning the middle date reads the registry of the first one: the same ids again.
    again, _, _ = assign_ids(build_catalog(["a2"], pd.DataFrame([match("p0", "a2", 0.9)]), listings([]), None),
                             read_design_registry(lake, DATES[1])[0], DATES[1])  # fmt: skip
    assert again.groups["a2"] == "a"
