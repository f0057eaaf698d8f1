"""The match step in regions mode: each garment region of a post matched on its own, no-garment posts left out."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from embedding.catalog import embed_catalog
from embedding.matching import match_social
from include.synth.apparel import jpeg_bytes, random_design, render_product
from tests.embedding.conftest import write_batch
from tests.embedding.test_regions import landscape, png


def test_regions_mode_matches_every_region_and_counts_no_garment_posts(lake, small_settings, monkeypatch):
    from include.core.settings import get_settings

    write_batch(lake, "shop", "2026-11-01", list(range(6)))
    garment = jpeg_bytes(render_product(random_design(np.random.default_rng(1))))
    write_batch(lake, "insta", "2026-11-01", [garment, png(landscape()), b"<html>not an image"], kind="social")
    embed_catalog("2026-11-01", lake, small_settings)
    whole = match_social("2026-11-01", lake, small_settings)
    assert whole["social_regions"] == "whole" and "region_outcomes" not in whole
    monkeypatch.setenv("FTI_SOCIAL_REGIONS", "regions")
    monkeypatch.setenv("FTI_REGION_SIZE", "320")
    get_settings.cache_clear()
    result = match_social("2026-11-01", lake, get_settings())
    assert result["region_outcomes"] == {"regions": 1, "no-garment": 1, "undecodable": 1}
    assert result["posts"] == 1 and result["skipped"] == 1
    rows = pd.read_parquet(io.BytesIO(lake.read_bytes(result["matches"])))
    assert rows["post_image_key"].nunique() == 1  # the landscape votes for nothing
    regions = rows.drop_duplicates("region")
    assert len(regions) >= 1 and (regions["region_score"] >= 0.25).all()
    assert all(len(b.split(",")) == 4 for b in regions["region_box"]) and regions["region_category"].str.len().min() > 0
    assert (rows.groupby("region")["neighbour_rank"].max() == small_settings.top_k - 1).all()
