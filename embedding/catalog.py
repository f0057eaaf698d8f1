"""The embed stage: the live catalog → vectors in the collection in service, incrementally, with tombstones.

**Live catalog.** Each portal source's validated crawls are its ``batches/kind=portal/source=<s>/dt=<d>/``
manifests. As of date ``dt``, a source's live products are the images (by sha256) listed in any of its last
``FTI_TOMBSTONE_AFTER_CRAWLS`` validated crawls up to ``dt``; the newest row of an image wins. An image of source
``s`` that is in the index but in none of those crawls has been *gone for N crawls* and is deleted (tombstoned);
if it comes back, it is embedded again. Quarantined or unvalidated crawls do not count as crawls, so a broken
crawl never empties the index, and a source that is no longer crawled keeps its last live set.

**Incremental.** Only live images whose sha256 has no vector in the collection in service (hence for its model
version) are read and embedded; rerunning a date embeds nothing twice.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from functools import partial
from typing import Any

import pandas as pd

from embedding.memory_search import warm
from embedding.projection_fit import ensure_projection
from include.core.lake import Lake, open_lake
from include.core.layout import MANIFEST, catalog_state_key
from include.core.progress import progress_bar
from include.core.settings import Settings, get_settings
from include.quality.batches import is_validated, read_manifest

log = logging.getLogger(__name__)

_BATCH = re.compile(r"^batches/kind=portal/source=(?P<source>[^/]+)/dt=(?P<dt>[^/]+)/" + re.escape(MANIFEST) + "$")


def portal_crawls(lake: Lake, upto: str) -> dict[str, list[str]]:
    """Per portal source, the dates of its validated crawls up to ``upto``, oldest first."""
    crawls: dict[str, list[str]] = {}
    for key in lake.list("batches/kind=portal/"):
        m = _BATCH.match(key)
        if m and m["dt"] <= upto and is_validated(lake, key[: -len(MANIFEST)]):
            crawls.setdefault(m["source"], []).append(m["dt"])
    return {s: sorted(d) for s, d in sorted(crawls.items())}


def live_catalog(lake: Lake, dt: str, window: int) -> pd.DataFrame:
    """The catalog as of ``dt``: every image of each source's last ``window`` validated crawls (newest row wins).

    The ``dt`` column is the last crawl that listed the image.
    """
    frames = []
    for source, dates in portal_crawls(lake, dt).items():
        for day in dates[-window:]:
            frame = read_manifest(lake, f"batches/kind=portal/source={source}/dt={day}/")
            frames.append(frame.assign(source=source, dt=day))
    if not frames:
        return pd.DataFrame(columns=["sha256", "source", "image_key", "dt"])
    frame = pd.concat(frames, ignore_index=True).sort_values(["dt", "sha256"], kind="stable")
    return frame.drop_duplicates("sha256", keep="last").sort_values("sha256").reset_index(drop=True)


def tombstone(index: Any, live: pd.DataFrame, sources: list[str]) -> int:
    """Delete the indexed images of ``sources`` that are not live; returns how many."""
    live_shas = set(live["sha256"])
    gone: list[str] = []
    for source in sources:
        quoted = source.replace("\\", "\\\\").replace('"', '\\"')
        for page in index.scan(("sha256",), filter=f'source == "{quoted}"'):
            gone.extend(r["sha256"] for r in page if r["sha256"] not in live_shas)
    if gone:
        index.delete(gone)
        log.info("tombstoned %d catalog images gone from their portal", len(gone))
    return len(gone)


def embed_rows(
    index: Any, encoder: Any, lake: Lake, rows: pd.DataFrame, desc: str, on_skip: Callable[[str, str], None]
) -> int:
    """Embed ``rows`` (manifest rows) through the encoder's DataLoader and upsert each batch; returns the count.

    Each batch is upserted as soon as it is embedded, so memory stays flat whatever the catalog's size.
    """
    from embedding.loader import LakeReader

    keys = rows["image_key"].tolist()
    with progress_bar(len(keys), desc) as advance, BackgroundWriter(index) as writer:
        for indices, vectors, errors in encoder.embed_stream(keys, LakeReader(lake)):
            for i, message in errors:
                on_skip(keys[i], message)
            if indices:
                writer.upsert(rows.iloc[indices].to_dict("records"), vectors)
            advance(len(indices) + len(errors))
    return writer.written


RPC_BYTES = 16 * 1024**2  # a server's insert batch: well under the 64 MB gRPC message cap


def row_bytes(row: dict[str, Any], dim: int) -> int:
    """What one row weighs on the wire, roughly: its float32 vector and the text of its metadata."""
    return 4 * dim + sum(len(str(v)) for v in row.values()) + 64


class BackgroundWriter:
    """Upserts on one background thread, so storing overlaps embedding; batches sized by bytes, not rows.

    Batches handed to :meth:`upsert` are coalesced until they weigh ``max_bytes`` (default: 16 MiB for a Milvus
    server, where each call is a round trip and the gRPC cap is 64 MB; 0 for Milvus Lite, whose upserts cost per
    row whatever their batch, so each batch is written as soon as it comes); a batch heavier than ``max_bytes`` is
    split. At most ``depth`` writes wait; the first failure is re-raised on the next call or on exit (nothing
    after it is written).
    """

    def __init__(self, index: Any, depth: int = 2, max_bytes: int | None = None) -> None:
        from concurrent.futures import ThreadPoolExecutor

        from embedding.lock import is_lite

        self.index, self.depth, self.written, self.calls = index, depth, 0, 0
        self.max_bytes = (
            (0 if is_lite(str(getattr(index, "uri", ""))) else RPC_BYTES) if max_bytes is None else max_bytes
        )
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="milvus-upsert")
        self._pending: list[Any] = []
        self._rows: list[dict[str, Any]] = []
        self._vectors: list[Any] = []
        self._bytes = 0

    def upsert(self, rows: list[dict[str, Any]], vectors: Any) -> None:
        """Queue one batch; it is written once ``max_bytes`` have gathered (waits while ``depth`` writes wait)."""
        dim = vectors.shape[1] if len(vectors) else 0
        for row, vector in zip(rows, vectors, strict=True):
            size = row_bytes(row, dim)
            if self._rows and self._bytes + size > self.max_bytes:
                self._flush()
            self._rows.append(row)
            self._vectors.append(vector)
            self._bytes += size
        if self._bytes >= self.max_bytes:
            self._flush()

    def _flush(self) -> None:
        import numpy as np

        if not self._rows:
            return
        while len(self._pending) >= self.depth:
            self.written += self._pending.pop(0).result()
        rows, vectors = self._rows, np.stack(self._vectors)
        self._rows, self._vectors, self._bytes = [], [], 0
        self._pending.append(self._pool.submit(self.index.upsert, rows, vectors))
        self.calls += 1

    def __enter__(self) -> BackgroundWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if exc[0] is None:
                self._flush()
            for future in self._pending:
                self.written += future.result()
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)


def embed_catalog(dt: str, lake: Lake | None = None, settings: Settings | None = None) -> dict[str, Any]:
    """Bring the collection in service up to the live catalog of ``dt``.

    Returns:
        ``rows`` of the day's validated crawls, ``live`` catalog images, ``embedded`` new vectors, ``already``
        indexed, ``skipped`` undecodable images, ``tombstoned`` images deleted, ``vectors`` in the collection
        after the run, its name (``collection``) and ``model_version``.
    """
    from embedding.service import connect, service_index
    from include.core.partition import check_dt

    dt = check_dt(dt)
    settings = settings or get_settings()
    lake = lake or open_lake(settings.lake, settings.s3_endpoint_url)
    live = live_catalog(lake, dt, settings.tombstone_after_crawls)
    today = int((live["dt"] == dt).sum()) if len(live) else 0
    skipped: list[str] = []
    with connect(settings) as conn:
        prepare = partial(ensure_projection, lake, settings, live=live)  # a projected version: fit its PCA first
        index, encoder = service_index(conn, lake, settings, prepare=prepare)
        already = index.existing(live["sha256"].tolist())
        todo = live[~live["sha256"].isin(already)].reset_index(drop=True)
        log.info("catalog %s: %d live, %d already in %s, %d to embed", dt, len(live), len(already), index.collection,
                 len(todo))  # fmt: skip
        embedded = embed_rows(index, encoder, lake, todo, f"embed catalog {dt}", lambda k, m: skipped.append(k))
        gone = tombstone(index, live, sorted(live["source"].unique())) if len(live) else 0
        total = index.count()
        if embedded or gone:
            warm(index)  # Milvus Lite: the in-memory search copy beside the file, for the match stage
    for key in skipped:
        log.warning("skipped undecodable catalog image %s", key)
    indexed = sorted(live.loc[live["dt"] == dt, "source"].unique().tolist()) if len(live) else []
    state = {"dt": dt, "sources": indexed, "collection": index.collection, "vectors": total}
    lake.write_text(catalog_state_key(dt), json.dumps(state, sort_keys=True))  # what the readiness rule reads
    return {
        "dt": dt, "rows": today, "live": len(live), "embedded": embedded, "already": len(already),
        "skipped": len(skipped), "tombstoned": gone, "vectors": total, "collection": index.collection,
        "model_version": encoder.version,
    }  # fmt: skip
