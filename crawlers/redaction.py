"""API tokens never reach a log line: a filter on every log handler of the crawl process scrubs them.

The API spiders send their token in the ``Authorization`` header only, and drop the ``access_token`` the Graph API
echoes in its ``paging.next`` URLs (:func:`without_token`), so no request URL carries one. As a second line, every
log record (message, arguments, traceback) is scrubbed as it is made (:func:`protect_logs`): the token values the
crawl knows, ``access_token=…`` query parameters and ``Bearer …`` credentials become ``[redacted]``.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "[redacted]"
TOKEN_PARAMETERS = ("access_token", "client_secret", "appsecret_proof")
_PATTERNS = [
    (re.compile(r"((?:access_token|client_secret|appsecret_proof)=)[^&\s'\"<>]+", re.I), rf"\1{MASK}"),
    (re.compile(r"((?:Bearer|OAuth)\s+)[A-Za-z0-9._~+/=-]{8,}"), rf"\1{MASK}"),
]


def redact(text: str, secrets: set[str] | frozenset[str] = frozenset()) -> str:
    """``text`` with every known secret, token query parameter and bearer credential masked."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


def without_token(url: str) -> str:
    """``url`` without token query parameters (the Graph API puts ``access_token`` back into ``paging.next``)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in TOKEN_PARAMETERS]
    return urlunsplit(parts._replace(query=urlencode(query)))


class _Scrubber:
    """A log record factory wrapping the current one: every record is scrubbed when it is made, so whatever handler
    writes it (Scrapy replaces its root handler once the spider exists) never sees a secret."""

    def __init__(self, factory) -> None:
        self.factory = factory
        self.secrets: set[str] = set()

    def __call__(self, *args, **kwargs) -> logging.LogRecord:
        record = self.factory(*args, **kwargs)
        message = record.getMessage()
        clean = redact(message, self.secrets)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return record


def protect_logs(*secrets: str | None) -> None:
    """Scrub ``secrets`` (and token patterns) from every log record made in this process from now on."""
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _Scrubber):
        factory = _Scrubber(factory)
        logging.setLogRecordFactory(factory)
    factory.secrets.update(s for s in secrets if s and len(s) >= 4)
