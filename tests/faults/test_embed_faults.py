"""``kill -9`` of the embed stage half-way (a real Milvus Lite file): the rerun embeds what is missing, no vector is
lost or duplicated, and the collection holds exactly the clean run's rows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from include.core.lake import LocalLake
from tests.embedding.conftest import write_batch
from tests.faults.shop import ROOT

D = "2026-11-01"
ENV = {"FTI_MODEL_NAME": "test_efficientnet", "FTI_PRETRAINED": "false", "FTI_EMBED_BATCH_SIZE": "4",
       "FTI_EMBED_WORKERS": "0", "FTI_DEVICE": "cpu"}  # fmt: skip


def embed(lake_dir, kill_after: float | None = None) -> tuple[int, float]:
    env = {**os.environ, **ENV, "FTI_LAKE": str(lake_dir), "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "include.ops.cli", "embed", "--date", D], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    if kill_after is not None:
        time.sleep(kill_after)
        os.kill(proc.pid, signal.SIGKILL)
    return proc.wait(300), time.monotonic() - started


def indexed(lake_dir) -> list[str]:
    from embedding.index import CatalogIndex

    uri = str(lake_dir / "index" / "milvus.db")
    with CatalogIndex(uri, "catalog_imagenet_test_efficientnet", 0) as index:
        index.client.load_collection(index.collection)
        return sorted(r["sha256"] for page in index.scan() for r in page)


def test_embed_killed_half_way_loses_and_duplicates_nothing(tmp_path):
    clean_dir, dir_ = tmp_path / "clean", tmp_path / "lake"
    shas = write_batch(LocalLake(clean_dir), "shop", D, list(range(64)))
    write_batch(LocalLake(dir_), "shop", D, list(range(64)))
    code, took = embed(clean_dir)
    assert code == 0
    code, _ = embed(dir_, kill_after=took * 0.75)
    assert code == -signal.SIGKILL
    partial = indexed(dir_)
    print(f"clean embed {took:.1f} s; killed at {took * 0.75:.1f} s with {len(partial)} of {len(shas)} vectors")
    assert len(set(partial)) == len(partial) and set(partial) <= set(shas)  # what was written is whole
    assert embed(dir_)[0] == 0  # the rerun
    assert indexed(dir_) == indexed(clean_dir) == sorted(shas)  # every row once, none lost
