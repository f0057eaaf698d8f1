"""Item pipelines: images into the lake (Scrapy's ImagesPipeline, hardened) and the batch manifest.

Images are untrusted input (:mod:`crawlers.images`): only JPEG/PNG/WEBP are decoded, decompression bombs and
truncated files are refused, and every stored image is an RGB JPEG without EXIF or any payload hidden after the
image data. Each refused image is a counted skip (``fti/skipped/<reason>``).

Incremental: each stored image ``images/full/<sha1(url)>.jpg`` gets a sidecar ``images/meta/<sha1(url)>.json``
(sha256 of the bytes as served, format, size, fetch time). A later crawl meeting the same URL reads the sidecar
instead of downloading (``IMAGES_EXPIRES`` days at most), and the image still gets its manifest row.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem
from scrapy.pipelines.files import FSFilesStore
from scrapy.pipelines.images import ImagesPipeline
from scrapy.pipelines.media import FileException
from scrapy.utils.defer import ensure_awaitable, maybe_deferred_to_future
from twisted.internet.threads import deferToThread

from crawlers.batch_writer import failed_write, write_batch, write_health_only
from crawlers.images import inspect_image, stored_jpeg
from crawlers.skips import count_skip, media_reason
from crawlers.stops import last_good_batch, status_line
from crawlers.write_errors import REASON as WRITE_REASON
from crawlers.write_errors import record_write_error
from include.core.lake import Lake, LocalLake, open_lake
from include.core.layout import IMAGES_PREFIX, MANIFEST, MANIFEST_COLUMNS

log = logging.getLogger(__name__)
IMAGE_META = ("sha256", "format", "width", "height", "bytes")
EXTRA_COLUMNS = ["availability"]  # crawler-side manifest columns beyond include.core.layout.MANIFEST_COLUMNS
COLUMNS = [*MANIFEST_COLUMNS, *EXTRA_COLUMNS]


def meta_key(image_path: str) -> str:
    """Lake key of the sidecar of the stored image ``full/<sha1(url)>.jpg`` (keyed by the URL fingerprint)."""
    fingerprint = image_path.rsplit("/", 1)[-1].split(".", 1)[0]
    return f"{IMAGES_PREFIX}/meta/{fingerprint}.json"


def skip_reason(failure_or_exc: Any) -> str:
    """The counted-skip reason of a media download failure."""
    exc = getattr(failure_or_exc, "value", failure_or_exc)
    text = str(exc).strip()
    return text.split(":", 1)[0].strip() if text else "fetch-error"


class LakeImagesPipeline(ImagesPipeline):
    """ImagesPipeline that validates and describes each image for the manifest."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._meta: dict[str, dict[str, Any]] = {}
        settings = self.crawler.settings if self.crawler else None
        self.min_side = settings.getint("FTI_MIN_IMAGE_SIDE", 1) if settings else 1
        self.lake: Lake | None = None
        if settings:
            self.lake = open_lake(settings.get("FTI_LAKE"), settings.get("FTI_S3_ENDPOINT_URL"))

    def stored_meta(self, path: str) -> dict[str, Any] | None:
        """The sidecar of an already stored, unexpired image at ``path``; ``None`` when it must be fetched."""
        if self.lake is None or self.expires <= 0:
            return None
        key = meta_key(path)
        if not self.lake.exists(key) or not self.lake.exists(f"{IMAGES_PREFIX}/{path}"):
            return None
        try:
            meta = json.loads(self.lake.read_text(key))
            fetched = datetime.fromisoformat(meta["fetched_at"])
        except (ValueError, KeyError, TypeError):
            return None  # a damaged sidecar: fetch again
        if datetime.now(UTC) - fetched > timedelta(days=self.expires) or not all(k in meta for k in IMAGE_META):
            return None
        return meta

    async def media_to_download(self, request, info, *, item=None):  # noqa: D102 (Scrapy hook)
        path = self.file_path(request, info=info, item=item)
        if isinstance(self.lake, LocalLake):  # a file check costs microseconds: no thread hop
            meta = self.stored_meta(path)
        else:
            meta = await maybe_deferred_to_future(deferToThread(self.stored_meta, path))
        if meta is None:
            return None  # download
        self.crawler.stats.inc_value("fti/images_reused")
        return {"url": request.url, "path": path, "checksum": meta.get("checksum"), "status": "uptodate",
                **{k: meta[k] for k in IMAGE_META}}  # fmt: skip

    def write_sidecar(self, url: str, path: str, checksum: str) -> None:
        """Record a stored image's metadata under its URL fingerprint, for the next crawl to reuse."""
        meta = self._meta.get(url)
        if meta and self.lake is not None:
            sidecar = {**meta, "url": url, "path": path, "checksum": checksum,
                       "fetched_at": datetime.now(UTC).isoformat(timespec="seconds")}  # fmt: skip
            self.lake.write_text(meta_key(path), json.dumps(sidecar, sort_keys=True))

    def _process(self, response, request, info, item, persist: bool) -> list[tuple[str, tuple[int, int], Any, str]]:
        """Check and strip/re-encode one image; with a local store also write it and its sidecar (thread pool)."""
        out = []
        for path, image, buf in self.get_images(response, request, info, item=item):
            checksum = hashlib.md5(buf.getvalue(), usedforsecurity=False).hexdigest()
            if persist:  # FSFilesStore.persist_file's own mkdir races when run from several threads: do it first
                try:
                    self.store._get_filesystem_path(path).parent.mkdir(parents=True, exist_ok=True)
                    self.store.persist_file(path, buf, info, meta={"width": image.width, "height": image.height})
                    self.write_sidecar(request.url, path, checksum)
                except Exception as exc:  # read-only or full lake: the crawl fails (crawlers.write_errors)
                    raise record_write_error(self.crawler, exc, f"image {path}") from exc
            out.append((path, image.size, buf, checksum))
        return out

    async def image_downloaded(self, response, request, info, *, item=None):  # noqa: D102 (Scrapy hook)
        # Image work runs in Twisted's thread pool (Pillow releases the GIL), in one hop per image, so it overlaps
        # the downloads instead of stalling the reactor. An S3 store is written from the reactor (its own threads).
        local = isinstance(self.store, FSFilesStore)
        results = await maybe_deferred_to_future(deferToThread(self._process, response, request, info, item, local))
        for path, (width, height), buf, checksum in [] if local else results:
            try:
                await ensure_awaitable(self.store.persist_file(path, buf, info, meta={"width": width, "height": height},
                                                               headers={"Content-Type": "image/jpeg"}))  # fmt: skip
                await maybe_deferred_to_future(deferToThread(self.write_sidecar, request.url, path, checksum))
            except Exception as exc:
                raise record_write_error(self.crawler, exc, f"image {path}") from exc
        self.crawler.stats.inc_value("fti/images_downloaded")
        return results[0][3]

    def get_images(self, response, request, info, *, item=None):  # noqa: D102 (Scrapy hook)
        image, meta = inspect_image(response.body, self.min_side)
        self._meta[request.url] = meta
        path = self.file_path(request, response=response, info=info, item=item)
        converted, buf = self.convert_image(image, response_body=io.BytesIO(response.body))
        yield path, converted, buf

    async def media_downloaded(self, response, request, info, *, item=None):  # noqa: D102 (Scrapy hook)
        if response.status != 200:  # Scrapy would say "download-error" for a 404 and a 429 alike
            raise FileException(f"http-{response.status}: {request.url}")
        return await super().media_downloaded(response, request, info, item=item)

    def media_failed(self, failure, request, info):  # noqa: D102 (Scrapy hook)
        # Scrapy replaces the reason (our image checks, robots, timeouts) by a bare exception: name it.
        value = failure.value
        reason = media_reason(value)
        try:
            super().media_failed(failure, request, info)
        except Exception as exc:
            raise FileException(f"{reason}: {value}") from exc

    def convert_image(self, image, size=None, *, response_body):  # noqa: D102 (Scrapy hook)
        return stored_jpeg(image, response_body.getvalue(), size)

    def item_completed(self, results, item, info):  # noqa: D102 (Scrapy hook)
        stored = []
        reasons = []
        urls = list(ItemAdapter(item).get("image_urls") or [])
        for i, (ok, result) in enumerate(results):
            if ok:
                stored.append({**result, **self._meta.pop(result["url"], {})})
            else:
                reason = skip_reason(result)
                reasons.append(reason)
                if reason != WRITE_REASON:  # the crawler's failure, not a skip of the source's
                    count_skip(self.crawler, reason, urls[i] if i < len(urls) else None, str(result.value)[:200])
        if not stored:
            raise DropItem(f"no image stored for {ItemAdapter(item).get('page_url')}: {reasons or 'no url'}")
        ItemAdapter(item)["images"] = stored
        self.crawler.stats.inc_value("fti/images_stored", len(stored))
        return item


class ManifestPipeline:
    """Collects stored images into the batch manifest and writes it, with crawl health, at close."""

    def __init__(self, crawler) -> None:
        import pandas  # noqa: F401  (imported before the spider opens: the manifest is written with it at close)

        self.crawler = crawler
        s = crawler.settings
        self.lake: Lake = open_lake(s.get("FTI_LAKE"), s.get("FTI_S3_ENDPOINT_URL"))
        self.prefix: str = s.get("FTI_BATCH_PREFIX")
        self.source = {
            "source": s.get("FTI_SOURCE"),
            "kind": s.get("FTI_KIND"),
            "horizon": s.get("FTI_HORIZON"),
        }
        self.rows: list[dict[str, Any]] = []
        self.seen: set[str] = set()
        self.started = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler) -> ManifestPipeline:  # noqa: D102 (Scrapy hook)
        return cls(crawler)

    def process_item(self, item):  # noqa: D102 (Scrapy hook)
        adapter = ItemAdapter(item)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        for image in adapter.get("images") or []:
            if image["sha256"] in self.seen:
                count_skip(self.crawler, "duplicate-content", image["url"])
                continue
            self.seen.add(image["sha256"])
            row = {col: adapter.get(col) for col in COLUMNS if col in adapter.field_names()}
            row.update(self.source)
            row.update(
                sha256=image["sha256"], image_url=image["url"], image_key=f"{IMAGES_PREFIX}/{image['path']}",
                format=image["format"], width=image["width"], height=image["height"], bytes=image["bytes"],
                crawled_at=now,
            )  # fmt: skip
            self.rows.append(row)
        return item

    def health(self) -> dict[str, Any]:
        """Crawl counters for the task log and the batch (pages, items, skips by reason, errors, 429s)."""
        stats = self.crawler.stats.get_stats()
        skipped = {k.split("/", 2)[2]: v for k, v in stats.items() if k.startswith("fti/skipped/")}
        statuses = {
            int(k.rsplit("/", 1)[1]): v for k, v in stats.items() if k.startswith("downloader/response_status_count/")
        }
        max_items = self.crawler.settings.getint("CLOSESPIDER_ITEMCOUNT", 0)
        stopped = stats.get("fti/stopped")
        if not stopped and max_items and stats.get("item_scraped_count", 0) >= max_items:
            stopped = "max-items"
        return {
            "source": self.source["source"],
            "pages": stats.get("fti/pages", 0),
            "responses": stats.get("response_received_count", 0),
            "items": len(self.rows),
            "images_stored": stats.get("fti/images_stored", 0),
            "images_downloaded": stats.get("fti/images_downloaded", 0),
            "images_reused": stats.get("fti/images_reused", 0),
            "bytes_received": stats.get("downloader/response_bytes", 0),
            "skipped": dict(sorted(skipped.items())),
            "http_errors": sum(v for code, v in statuses.items() if code >= 400),
            "http_429": statuses.get(429, 0),
            "retries": stats.get("retry/count", 0),
            "retry_wait_s": stats.get("fti/retry_wait_s", 0),
            "http_cache_hits": stats.get("httpcache/hit", 0),
            "stopped": stopped,
            "stop_detail": stats.get("fti/stop_detail"),  # bot wall or rate limit (crawlers.stops)
            "throttle_wait_s": stats.get("fti/throttle_wait_s", 0),
            "source_skipped": stats.get("fti/source_skipped"),
            "duration_s": round(time.monotonic() - self.started, 2),
        }

    def close_spider(self) -> None:  # noqa: D102 (Scrapy hook)
        import pandas as pd

        health = self.health()
        manifest_key = self.prefix + MANIFEST
        if failed_write(self.crawler, health):
            return  # the crawl failed: no batch written, the previous one (if any) stays as it was
        if health["stop_detail"]:  # stopped by a bot wall or a rate limit: say so in one line (crawlers.stops)
            kept = not self.rows and self.lake.exists(manifest_key)
            last_good = last_good_batch(self.lake, self.source["kind"], self.source["source"])
            health["status"] = status_line({**health, "kept_previous_batch": kept}, last_good)
            log.error("%s", health["status"])
        if health["source_skipped"] and not self.rows:
            if self.lake.exists(manifest_key):
                health["kept_previous_batch"] = True
            else:  # health only, no manifest: validation sees a skipped source, not an empty batch
                write_health_only(self.crawler, self.lake, self.prefix, health)
            log.warning("source %s skipped (%s): no batch written", self.source["source"], health["source_skipped"])
        elif not self.rows and self.lake.exists(manifest_key):
            log.error("crawl of %s stored nothing; keeping the existing batch %s", self.source, self.prefix)
            health["kept_previous_batch"] = True
        else:
            frame = pd.DataFrame(self.rows, columns=COLUMNS)
            frame = frame.sort_values("sha256", kind="stable").reset_index(drop=True)
            buf = io.BytesIO()
            frame.to_parquet(buf, index=False)
            write_batch(self.crawler, self.lake, self.prefix, buf.getvalue(), health)  # write-new-then-switch
        self.crawler.stats.set_value("fti/health", health)
        log.info("batch %s: %s", self.lake.uri(self.prefix), json.dumps(health, sort_keys=True))
