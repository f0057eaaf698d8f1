"""Retry-After parsing and the retry delay policy (the real 429 wait is shown by the Instagram crawl test)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from scrapy.http import Request, Response
from scrapy.utils.test import get_crawler

from crawlers.guard import host_is_loopback
from crawlers.politeness import RetryAfterMiddleware, parse_retry_after

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("value, seconds", [
    (b"7", 7.0), ("0", 0.0), (" 2.5 ", 2.5), (format_datetime(NOW + timedelta(seconds=90), usegmt=True), 90.0),
    (format_datetime(NOW - timedelta(seconds=90), usegmt=True), 0.0), (b"soon", None), (None, None), (b"", None),
])  # fmt: skip
def test_parse_retry_after(value, seconds):
    assert parse_retry_after(value, now=NOW.timestamp()) == seconds


def middleware(**settings) -> RetryAfterMiddleware:
    crawler = get_crawler(settings_dict={"RETRY_ENABLED": True, **settings})
    return RetryAfterMiddleware.from_crawler(crawler)


def test_retry_delay_honours_retry_after_with_a_cap_and_backs_off_otherwise():
    mw = middleware(FTI_RETRY_AFTER_MAX=30, FTI_RETRY_BACKOFF_BASE=0.5)
    req = Request("http://127.0.0.1/a")
    assert mw.retry_delay(req, Response(req.url, status=429, headers={"Retry-After": "12"})) == 12
    assert mw.retry_delay(req, Response(req.url, status=503, headers={"Retry-After": "3600"})) == 30  # capped
    assert mw.retry_delay(req, Response(req.url, status=500, headers={"Retry-After": "12"})) == 0.5  # 5xx: backoff
    again = req.replace(meta={"retry_times": 3})
    assert mw.retry_delay(again, Response(req.url, status=502)) == 4.0  # 0.5 * 2**3
    assert mw.retry_delay(req.replace(meta={"retry_times": 9}), Response(req.url, status=429)) == 30


@pytest.mark.parametrize("host, loopback", [
    ("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("localhost", True), ("10.0.0.1", False),
    ("8.8.8.8", False), ("www.asos.com", False), ("split.example", False),
])  # fmt: skip
def test_loopback_only_classification_without_dns(host, loopback):
    answers = {"localhost": ["127.0.0.1", "::1"], "www.asos.com": ["23.1.2.3"],
               "split.example": ["127.0.0.1", "10.0.0.5"]}  # fmt: skip
    assert host_is_loopback(host, answers.__getitem__) is loopback
