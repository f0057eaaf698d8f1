"""Counted, named skips: every refused page, image or API record is one ``fti/skipped/<reason>`` count and one
line ``{"reason", "url", "detail"}`` of the batch's ``skips.jsonl`` (the full per-URL list, never cut from a log).

Reasons name the cause: ``robots-disallowed``, ``over-max-size``, ``http-404``, ``http-429``, ``timeout``,
``dns-error``, ``connection-error``, ``bad-jsonld`` (JSON-LD present but unparsable) vs ``no-jsonld`` (none),
``blocked-address``, ``bad-image``, ``duplicate-content``... (docs/crawling.md).
"""

from __future__ import annotations

import json
from typing import Any

MAX_LINES = 200_000  # a runaway crawl cannot grow the list without bound; the counts stay exact


def count_skip(crawler: Any, reason: str, url: str | None = None, detail: str | None = None) -> None:
    """Count one skip of ``reason`` and keep its URL for ``skips.jsonl``."""
    crawler.stats.inc_value(f"fti/skipped/{reason}")
    kept: list[dict[str, Any]] = crawler.__dict__.setdefault("_fti_skips", [])
    if len(kept) < MAX_LINES:
        line = {"reason": reason, "url": url}
        if detail:
            line["detail"] = " ".join(str(detail).split())[:300]
        kept.append(line)
    else:
        crawler.stats.inc_value("fti/skips_not_listed")


def skips_jsonl(crawler: Any) -> bytes:
    """The crawl's skips as JSON lines, sorted (reason, url) so a rerun of the same crawl writes the same bytes."""
    kept = crawler.__dict__.get("_fti_skips", [])
    rows = sorted(kept, key=lambda r: (r["reason"], r.get("url") or "", r.get("detail") or ""))
    return "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows).encode()
