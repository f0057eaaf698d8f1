"""A failed lake write fails the crawl: recorded once, the spider closed, the batch not written, exit status 1.

Writes go through the image store (Scrapy's ``FSFilesStore`` / ``S3FilesStore``) and the lake. When one fails
(read-only lake, full disk, S3 refusing), :func:`record_write_error` keeps the first reason as one line in the
stat ``fti/write_error`` and closes the spider; the manifest pipeline then writes no batch (the previous batch of
the date stays as it was), and ``python -m crawlers.crawl`` exits 1 with that line. A write error is never
counted as a skip: it is the crawler's failure, not the source's.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from scrapy.pipelines.media import FileException
from scrapy.utils.defer import deferred_from_coro

log = logging.getLogger(__name__)
WRITE_ERROR = "fti/write_error"
REASON = "lake-write-error"


class LakeWriteError(FileException):
    """Storing an image or the batch failed; the message starts with ``lake-write-error:``."""


def one_line(exc: BaseException) -> str:
    """``ExcType: message`` on one line."""
    text = " ".join(str(exc).split()) or repr(exc)
    return f"{type(exc).__name__}: {text}"


def _close(crawler: Any) -> None:
    with contextlib.suppress(RuntimeError):  # already closing
        deferred_from_coro(crawler.engine.close_spider_async(reason=REASON))


def record_write_error(crawler: Any, exc: BaseException, what: str) -> LakeWriteError:
    """Record the first write failure, close the spider (reason ``lake-write-error``); return the error to raise."""
    line = f"lake write failed ({what}): {one_line(exc)}"
    if not crawler.stats.get_value(WRITE_ERROR):
        crawler.stats.set_value(WRITE_ERROR, line)
        log.error("%s; stopping the crawl, no batch will be written", line)
        if getattr(crawler, "engine", None) is not None and getattr(crawler, "spider", None) is not None:
            from twisted.internet import reactor

            reactor.callFromThread(_close, crawler)  # image writes fail in the thread pool: close from the reactor
    return LakeWriteError(f"{REASON}: {line}")
