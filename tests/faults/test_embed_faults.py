"""``kill -9`` of the embed stage half-way (a real Milvus Lite file): the rerun embeds what is missing, no vector is
lost or duplicated, and the collection holds exactly the clean run's rows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

from include.core.lake import LocalLake
from tests.embedding.conftest import write_batch
from tests.faults.shop import ROOT

D = "2026-11-01"
ENV = {"FTI_MODEL_NAME": "test_efficientnet", "FTI_PRETRAINED": "false", "FTI_EMBED_BATCH_SIZE": "4",
       "FTI_EMBED_WORKERS": "0", "FTI_DEVICE": "cpu"}  # fmt: skip


def embed(lake_dir, kill_at: float | None = None) -> tuple[int, float, float]:
    """Run ``fti embed``; return (exit status, seconds until it started embedding, until it printed its result).

    With ``kill_at``: SIGKILL it that fraction of the way through its embedding, timed from its own log line
    "... to embed" with the clean run's embedding time (so the kill lands half-way whatever the machine's load).
    """
    env = {**os.environ, **ENV, "FTI_LAKE": str(lake_dir), "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "include.ops.cli", "embed", "--date", D], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    begun = threading.Event()
    marks: list[float] = []

    def read() -> None:
        for line in proc.stderr:
            if "to embed" in line and not begun.is_set():
                marks.append(time.monotonic() - started)
                begun.set()

    def result() -> None:
        for line in proc.stdout:
            if line.startswith("{") and len(marks) == 1:
                marks.append(time.monotonic() - started)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    printer = threading.Thread(target=result, daemon=True)
    printer.start()
    if kill_at is not None:
        begun.wait(300)
        time.sleep(kill_at)
        os.kill(proc.pid, signal.SIGKILL)
    code = proc.wait(300)
    reader.join(10)
    printer.join(10)
    marks += [0.0, 0.0]
    return code, marks[0], marks[1]


def indexed(lake_dir) -> list[str]:
    from embedding.index import CatalogIndex

    uri = str(lake_dir / "index" / "milvus.db")
    with CatalogIndex(uri, "catalog_imagenet_test_efficientnet", 0) as index:
        index.client.load_collection(index.collection)
        return sorted(r["sha256"] for page in index.scan() for r in page)


def test_embed_killed_half_way_loses_and_duplicates_nothing(tmp_path):
    clean_dir, dir_ = tmp_path / "clean", tmp_path / "lake"
    shas = write_batch(LocalLake(clean_dir), "shop", D, list(range(96)))
    write_batch(LocalLake(dir_), "shop", D, list(range(96)))
    code, begun, took = embed(clean_dir)
    assert code == 0 and 0 < begun < took
    code, _, _ = embed(dir_, kill_at=(took - begun) * 0.5)
    assert code == -signal.SIGKILL
    partial = indexed(dir_)
    print(f"clean embed from {begun:.1f} s to {took:.1f} s; killed with {len(partial)} of {len(shas)} vectors")
    assert len(set(partial)) == len(partial) and set(partial) <= set(shas)  # what was written is whole
    assert embed(dir_)[0] == 0  # the rerun
    assert indexed(dir_) == indexed(clean_dir) == sorted(shas)  # every row once, none lost
