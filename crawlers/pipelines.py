"""Item pipelines: images into the lake (Scrapy's ImagesPipeline, hardened) and the batch manifest.

Images are untrusted input: only JPEG/PNG/WEBP are decoded, Pillow's decompression-bomb warning is an error,
truncated files are refused, and every stored image is re-encoded as RGB JPEG (which drops EXIF and any
payload hidden after the image data). Each refused image is a counted skip (``fti/skipped/<reason>``).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import time
import warnings
from datetime import UTC, datetime
from typing import Any

from itemadapter import ItemAdapter
from PIL import Image
from scrapy.exceptions import DropItem, IgnoreRequest
from scrapy.pipelines.images import ImageException, ImagesPipeline
from scrapy.pipelines.media import FileException

from crawlers.guard import BlockedRequest
from include.lake import Lake, open_lake
from include.layout import HEALTH, IMAGES_PREFIX, MANIFEST, MANIFEST_COLUMNS

log = logging.getLogger(__name__)
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}


def inspect_image(body: bytes, min_side: int = 1) -> tuple[Image.Image, dict[str, Any]]:
    """Decode untrusted image bytes safely.

    Returns:
        The decoded image and its manifest metadata (sha256 of the bytes as served, format, size).

    Raises:
        ImageException: with a ``reason: detail`` message (unsupported-format, decompression-bomb,
            undecodable, too-small).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(body))
            fmt = image.format
            if fmt not in ALLOWED_FORMATS:
                raise ImageException(f"unsupported-format: {fmt}")
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageException(f"decompression-bomb: {exc}") from exc
        except ImageException:
            raise
        except Exception as exc:  # UnidentifiedImageError, truncated data, broken chunks
            raise ImageException(f"undecodable: {exc}") from exc
    width, height = image.size
    if min(width, height) < min_side:
        raise ImageException(f"too-small: {width}x{height} < {min_side}")
    meta = {
        "sha256": hashlib.sha256(body).hexdigest(),
        "format": fmt,
        "width": width,
        "height": height,
        "bytes": len(body),
    }
    return image, meta


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
        self.min_side = self.crawler.settings.getint("FTI_MIN_IMAGE_SIDE", 1) if self.crawler else 1

    def get_images(self, response, request, info, *, item=None):  # noqa: D102 (Scrapy hook)
        image, meta = inspect_image(response.body, self.min_side)
        self._meta[request.url] = meta
        path = self.file_path(request, response=response, info=info, item=item)
        converted, buf = self.convert_image(image, response_body=io.BytesIO(response.body))
        yield path, converted, buf

    def media_failed(self, failure, request, info):  # noqa: D102 (Scrapy hook)
        # Scrapy replaces the reason (404 "download-error", our image checks) by a bare exception: keep it.
        value = failure.value
        if isinstance(value, BlockedRequest):
            reason = skip_reason(value)
        elif isinstance(value, IgnoreRequest):
            reason = "filtered"
        elif isinstance(value, FileException) and str(value):
            reason = skip_reason(value)
        else:
            reason = "fetch-error"
        try:
            super().media_failed(failure, request, info)
        except Exception as exc:
            raise FileException(f"{reason}: {value}") from exc

    def convert_image(self, image, size=None, *, response_body):  # noqa: D102 (Scrapy hook)
        if image.mode in ("RGBA", "LA", "P"):
            rgba = image.convert("RGBA")
            background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            background.alpha_composite(rgba)
            image = background
        image = image.convert("RGB")
        if size:
            image = image.copy()
            image.thumbnail(size, Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        image.save(buf, "JPEG", quality=92)  # re-encoding drops EXIF and trailing payloads
        buf.seek(0)
        return image, buf

    def item_completed(self, results, item, info):  # noqa: D102 (Scrapy hook)
        stored = []
        reasons = []
        for ok, result in results:
            if ok:
                stored.append({**result, **self._meta.pop(result["url"], {})})
            else:
                reason = skip_reason(result)
                reasons.append(reason)
                self.crawler.stats.inc_value(f"fti/skipped/{reason}")
        if not stored:
            raise DropItem(f"no image stored for {ItemAdapter(item).get('page_url')}: {reasons or 'no url'}")
        ItemAdapter(item)["images"] = stored
        self.crawler.stats.inc_value("fti/images_stored", len(stored))
        return item


class ManifestPipeline:
    """Collects stored images into the batch manifest and writes it, with crawl health, at close."""

    def __init__(self, crawler) -> None:
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
                self.crawler.stats.inc_value("fti/skipped/duplicate-content")
                continue
            self.seen.add(image["sha256"])
            row = {col: adapter.get(col) for col in MANIFEST_COLUMNS if col in adapter.field_names()}
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
        return {
            "source": self.source["source"],
            "pages": stats.get("fti/pages", 0),
            "responses": stats.get("response_received_count", 0),
            "items": len(self.rows),
            "images_stored": stats.get("fti/images_stored", 0),
            "skipped": dict(sorted(skipped.items())),
            "http_errors": sum(v for code, v in statuses.items() if code >= 400),
            "http_429": statuses.get(429, 0),
            "retries": stats.get("retry/count", 0),
            "duration_s": round(time.monotonic() - self.started, 2),
        }

    def close_spider(self) -> None:  # noqa: D102 (Scrapy hook)
        import pandas as pd

        health = self.health()
        manifest_key = self.prefix + MANIFEST
        if not self.rows and self.lake.exists(manifest_key):
            log.error("crawl of %s stored nothing; keeping the existing batch %s", self.source, self.prefix)
            health["kept_previous_batch"] = True
        else:
            frame = pd.DataFrame(self.rows, columns=MANIFEST_COLUMNS)
            frame = frame.sort_values("sha256", kind="stable").reset_index(drop=True)
            buf = io.BytesIO()
            frame.to_parquet(buf, index=False)
            self.lake.delete_prefix(self.prefix)  # a rerun of the date replaces the batch
            self.lake.write_bytes(manifest_key, buf.getvalue())
            self.lake.write_text(self.prefix + HEALTH, json.dumps(health, indent=2, sort_keys=True))
        self.crawler.stats.set_value("fti/health", health)
        log.info("batch %s: %s", self.lake.uri(self.prefix), json.dumps(health, sort_keys=True))
