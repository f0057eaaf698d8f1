"""One writer per Milvus Lite file: concurrent processes are serialised by the lock, and none loses data."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from embedding import lock

WRITER = """
import json, sys, time
import numpy as np
from embedding.index import MilvusConnection, CatalogIndex
uri, offset = sys.argv[1], int(sys.argv[2])
asked = time.time()
with MilvusConnection(uri, lock_timeout=120) as conn:
    start = time.time()
    index = CatalogIndex(uri, "catalog", 8, connection=conn)
    index.ensure()
    vectors = np.random.default_rng(offset).normal(size=(300, 8)).astype(np.float32)
    for i in range(0, 300, 50):
        index.upsert([{"sha256": "%064x" % (offset + j)} for j in range(i, i + 50)], vectors[i : i + 50])
        time.sleep(0.1)
    count = index.count()
    end = time.time()
print(json.dumps({"asked": asked, "start": start, "end": end, "count": count}))
"""


def test_two_processes_writing_at_once_both_succeed_one_after_the_other(tmp_path):
    uri = str(tmp_path / "m.db")
    root = Path(__file__).resolve().parents[2]
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, uri, str(offset)], cwd=root, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for offset in (0, 1000)
    ]  # fmt: skip
    runs = []
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err[-3000:]
        runs.append(json.loads(out.strip().splitlines()[-1]))
    first, second = sorted(runs, key=lambda r: r["start"])
    assert first["end"] <= second["start"]  # serialised: the second opened the file after the first let go
    assert second["asked"] < first["end"]  # ... although it asked while the first was writing
    assert sorted(r["count"] for r in runs) == [300, 600]
    from embedding.index import CatalogIndex

    with CatalogIndex(uri, "catalog", 8) as index:
        index.ensure()
        assert index.count() == 600  # nothing lost, nothing duplicated


def test_a_lock_held_too_long_is_a_clear_error(tmp_path):
    uri = str(tmp_path / "m.db")
    lock.acquire(uri)
    try:
        code = (
            "from embedding.lock import acquire, MilvusLockTimeout\n"
            f"try:\n    acquire({uri!r}, timeout=0.5)\nexcept MilvusLockTimeout as exc:\n    print('timeout:', exc)"
        )
        started = time.monotonic()
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert "timeout:" in out.stdout and "one process per file" in out.stdout, out.stderr[-2000:]
        assert time.monotonic() - started < 30
        lock.acquire(uri)  # re-entrant in the holding process
        lock.release(uri)
    finally:
        lock.release(uri)
    assert not lock._held


def test_a_server_uri_needs_no_lock():
    lock.acquire("http://127.0.0.1:1")
    assert not lock._held
