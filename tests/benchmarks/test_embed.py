"""``make bench-embed`` on a few tiny images (CPU, Milvus Lite): every path and every stage is measured."""

from __future__ import annotations

import pytest

from benchmarks.embed import bottleneck, parse_args, run

TINY = ["--images", "12", "--batch-size", "4", "--workers", "0", "--device", "cpu", "--image-side", "96",
        "--rounds", "2", "--naive-images", "3"]  # fmt: skip


def test_the_slowest_stage_is_the_bottleneck():
    assert bottleneck({"decode_img_s": 40.0, "raw_forward_img_s": 900.0, "store_rows_s": 700.0}) == "decode_img_s"
    assert bottleneck({"decode_img_s": 40.0, "raw_forward_img_s": 9.0, "store_rows_s": 700.0}) == "raw_forward_img_s"


@pytest.mark.parametrize("decode", ["cpu", "device"])
def test_bench_embed_stores_every_image_and_measures_each_stage(decode):
    out = run(parse_args([*TINY, "--decode", decode, "--random-init"]))
    assert out["stored"] == 12 and out["store"] == "milvus-lite" and out["device"] == "cpu"
    assert out["decode"] == decode and out["forward_batch"] == 4 and out["pretrained"] is False
    stages = out["stages"]
    assert set(stages) == {"read_img_s", "decode_img_s", "raw_forward_img_s", "store_rows_s"}
    assert out["full_vs_slowest_stage"] == pytest.approx(out["full_path_img_s"] / min(stages.values()), rel=0.05)
    assert all(rate > 0 for rate in stages.values()), stages
    assert out["bottleneck"] == bottleneck(stages)
    assert stages["raw_forward_img_s"] == out["raw_forward_img_s"]
    assert out["full_vs_raw"] == pytest.approx(out["full_path_img_s"] / out["raw_forward_img_s"], rel=0.05)
    assert out["full_vs_naive"] == pytest.approx(out["full_path_img_s"] / out["naive_img_s"], rel=0.05)
