"""bench-street on a tiny styles.csv folder of generated white-background product photos."""

from __future__ import annotations

import json
import re

import numpy as np

from benchmarks.street import average_precision, main, split_ids
from include.synth.apparel import random_design, render_product


def test_bench_street_prints_the_table_and_the_summary_line(tmp_path, capsys):
    rng = np.random.default_rng(2)
    (tmp_path / "images").mkdir()
    rows = ["id,gender,masterCategory,subCategory,articleType,baseColour"]
    for i in range(14):
        render_product(random_design(rng), (160, 200)).save(tmp_path / "images" / f"{100 + i}.jpg")
        rows.append(f"{100 + i},Women,Apparel,Topwear,Tops,Blue")
    (tmp_path / "styles.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "street.json"
    flags = ["--scenes", "3", "--width", "256", "--height", "320", "--region-size", "256", "--device", "cpu"]
    result = main(["--images", str(tmp_path), *flags, "--distractor-fraction", "0.3", "--out", str(out)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert re.fullmatch(r"street: whole R@1 \d\.\d\d, localised R@1 \d\.\d\d, box recall \d\.\d\d", lines[-1])
    assert any("localisation AP@0.5" in line for line in lines)
    saved = json.loads(out.read_text())
    assert saved["scenes"] == 3 and saved["planted"] >= 3 and saved["boxes"] > saved["planted"]
    assert saved["gallery"] + saved["distractor_products"] == 14
    for key in ("whole_r1", "whole_r20", "localised_r1", "localised_r20", "ap50", "box_recall"):
        assert 0.0 <= saved[key] <= 1.0
    assert saved["whole_r1"] <= saved["whole_r20"] and saved["localised_r1"] <= saved["localised_r20"]
    assert sum(saved["outcomes"].values()) == 3 and result["load"]


def test_distractors_are_never_in_the_gallery_and_ap_scores_boxes():
    gallery, distractors = split_ids([str(i) for i in range(200)], 0.2)
    assert not set(gallery) & set(distractors) and 20 < len(distractors) < 60
    truth = [[(0, 0, 10, 10), (20, 20, 30, 30)]]
    assert average_precision([(0.9, 0, (0, 0, 10, 10)), (0.8, 0, (20, 20, 30, 30))], truth) == 1.0
    assert average_precision([(0.9, 0, (50, 50, 60, 60)), (0.8, 0, (0, 0, 10, 10))], truth) == 0.25


def test_bench_street_reads_a_deepfashion2_folder(tmp_path, capsys):
    from PIL import Image

    rng = np.random.default_rng(6)
    (tmp_path / "image").mkdir()
    (tmp_path / "annos").mkdir()
    garments = [render_product(random_design(rng), (120, 150)) for _ in range(3)]

    def photo(name: str, source: str, pair: int, items: list[tuple[int, int, int]]) -> None:
        scene = Image.new("RGB", (320, 400), (120, 130, 125))
        meta = {"source": source, "pair_id": pair}
        for n, (g, style, x) in enumerate(items, 1):
            scene.paste(garments[g], (x, 60))
            meta[f"item{n}"] = {"bounding_box": [x, 60, x + 120, 210], "style": style, "category_name": "top"}
        scene.save(tmp_path / "image" / f"{name}.jpg")
        (tmp_path / "annos" / f"{name}.json").write_text(json.dumps(meta))

    photo("000001", "shop", 1, [(0, 1, 20), (1, 2, 170)])
    photo("000002", "shop", 2, [(2, 1, 100)])
    photo("000003", "user", 1, [(0, 1, 40), (2, 0, 180)])  # the second item has no shop twin (style 0)
    photo("000004", "user", 2, [(2, 1, 60)])
    flags = ["--scenes", "5", "--region-size", "256", "--device", "cpu"]
    result = main(["--deepfashion2", str(tmp_path), *flags])
    assert (result["gallery"], result["scenes"], result["planted"], result["boxes"]) == (3, 2, 2, 3)
    assert result["format"] == "deepfashion2"
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("street: whole R@1 ")
