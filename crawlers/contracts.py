"""``scrapy check`` contracts that stay offline: ``@loopback_url /path`` fetches ``$FTI_CHECK_BASE_URL/path``.

Scrapy's ``@url`` takes a fixed URL, which would make ``scrapy check`` fetch the real site. Our contracts name a
path on a loopback fixture site instead (the tests serve one; the demo web serves the demo shops), so checks never
leave 127.0.0.0/8. Run them against a source whose hosts are allowed, e.g. ``scrapy check demo_boutique``.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urljoin

from scrapy.contracts import Contract

DEFAULT_BASE = "http://127.0.0.1:8765"


class LoopbackUrlContract(Contract):
    """``@loopback_url /path``: the request URL is ``FTI_CHECK_BASE_URL`` (default the demo web) plus the path."""

    name = "loopback_url"

    def adjust_request_args(self, args: dict[str, Any]) -> dict[str, Any]:  # noqa: D102 (Scrapy hook)
        base = os.environ.get("FTI_CHECK_BASE_URL") or os.environ.get("FTI_DEMO_WEB_URL") or DEFAULT_BASE
        args["url"] = urljoin(base.rstrip("/") + "/", self.args[0].lstrip("/"))
        return args
